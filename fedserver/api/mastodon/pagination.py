"""Paging as Mastodon does it: max_id, since_id, min_id, limit, and the Link header clients follow."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from fedserver.api.mastodon.call import ApiError, Call
from fedserver.ids import InvalidId, parse_id


@dataclass(frozen=True)
class Page:
    max_id: int | None
    since_id: int | None
    min_id: int | None
    limit: int


def page_of(call: Call, *, default: int = 20, maximum: int = 40) -> Page:
    """The page parameters; ids that are not ids are 400, a limit out of range is clamped (as Mastodon)."""
    try:
        ids = {name: parse_id(str(call.params[name]), name) if call.params.get(name) not in (None, "") else None
               for name in ("max_id", "since_id", "min_id")}
    except InvalidId as exc:
        raise ApiError(400, str(exc)) from None
    raw = call.params.get("limit")
    try:
        limit = default if raw in (None, "") else max(1, min(int(str(raw)), maximum))
    except ValueError:
        raise ApiError(400, f"limit must be a whole number, not {str(raw)[:40]!r}") from None
    return Page(ids["max_id"], ids["since_id"], ids["min_id"], limit)


def link_header(call: Call, ids: Sequence[int], *, next_id: int | None = None, prev_id: int | None = None) -> None:
    """Set Link: rel=next (older, max_id) and rel=prev (newer, min_id) from the page's first and last ids."""
    if not ids and next_id is None:
        return
    base = f"{call.site.urls.base_url}{call.request.url.path}"
    # multi_items: repeated parameters (types[]=mention&types[]=follow) stay in the links, as on Mastodon.
    kept = [(key, value) for key, value in call.request.query_params.multi_items()
            if key not in ("max_id", "since_id", "min_id")]
    older = next_id if next_id is not None else min(ids)
    newer = prev_id if prev_id is not None else max(ids)
    call.headers["Link"] = (f'<{base}?{urlencode([*kept, ("max_id", older)])}>; rel="next", '
                            f'<{base}?{urlencode([*kept, ("min_id", newer)])}>; rel="prev"')
