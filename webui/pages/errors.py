"""The web UI's answer where no route matched: browsers get the error page in their language, with the usual
header (signed in or not); API and ActivityPub clients keep Mastodon's JSON error (fedserver.app decides)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedserver.local.errors import NotFound
from webui.page import Page, page

# Paths whose clients are programs even when they accept HTML (a browser opening an API URL gets JSON too).
MACHINE_PATHS = ("/api/", "/.well-known/", "/nodeinfo", "/inbox", "/oauth/token", "/oauth/revoke")
MACHINE_TYPES = ("application/activity+json", "application/ld+json", "application/json")


def wants_html(request: Request) -> bool:
    """A browser asking for a page: GET or HEAD, and text/html accepted and preferred (by quality, then by
    order) over every JSON type it names."""
    if request.method not in ("GET", "HEAD") or request.url.path.startswith(MACHINE_PATHS):
        return False
    ranked = sorted((-quality, position, kind) for position, (kind, quality)
                    in enumerate(_accepted(request.headers.get("accept", "")))
                    if quality > 0 and (kind == "text/html" or kind in MACHINE_TYPES))
    return bool(ranked) and ranked[0][2] == "text/html"


def _accepted(header: str) -> list[tuple[str, float]]:
    """Media types of an Accept header with their quality (RFC 9110, 12.5.1); a garbled q counts as 0."""
    found = []
    for part in header.lower().split(","):
        kind, *params = [piece.strip() for piece in part.split(";")]
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        found.append((kind, quality))
    return found


@page()
async def not_found(current: Page) -> Response:
    raise NotFound("no page at this path")  # page() draws it as the translated 404 page
