"""Content negotiation: ActivityPub JSON for servers and apps, HTML for browsers, 406 otherwise."""
from __future__ import annotations

from typing import Literal

from starlette.requests import Request

ACTIVITY = "activity"
HTML = "html"
Representation = Literal["activity", "html"]

_ACTIVITY_TYPES = {"application/activity+json", "application/ld+json", "application/json"}
_HTML_TYPES = {"text/html", "application/xhtml+xml", "text/*", "*/*"}
_AS2_PROFILE = "https://www.w3.org/ns/activitystreams"


def choose(request: Request) -> Representation | None:
    """The representation the Accept header prefers; no header means a browser-like client (HTML)."""
    accept = request.headers.get("accept", "").strip()
    if not accept:
        return HTML
    best: tuple[float, bool] | None = None
    chosen: Representation | None = None
    for part in accept.split(","):
        kind, quality = _classify(part)
        if kind is None or quality <= 0:
            continue
        # Higher quality wins; on a tie ActivityPub JSON beats a */* catch-all; else the earlier one stays.
        rank = (quality, kind == ACTIVITY)
        if best is None or rank > best:
            best, chosen = rank, kind
    return chosen


def _classify(part: str) -> tuple[Representation | None, float]:
    pieces = [piece.strip() for piece in part.split(";")]
    media_type = pieces[0].lower()
    params = dict(_param(piece) for piece in pieces[1:] if "=" in piece)
    try:
        quality = float(params.get("q", "1"))
    except ValueError:
        quality = 0.0
    if media_type in _ACTIVITY_TYPES:
        profile = params.get("profile")
        # ld+json with a profile other than AS2 asks for something we do not serve.
        if media_type == "application/ld+json" and profile is not None and _AS2_PROFILE not in profile.split():
            return None, quality
        return ACTIVITY, quality
    if media_type in _HTML_TYPES:
        return HTML, quality
    return None, quality


def _param(piece: str) -> tuple[str, str]:
    key, _, value = piece.partition("=")
    return key.strip().lower(), value.strip().strip('"')
