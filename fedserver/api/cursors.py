"""Page cursors from query strings: ids and page numbers, refused with 400 when malformed."""
from __future__ import annotations

from starlette.requests import Request

from fedserver.ids import InvalidId, parse_id

BadCursor = InvalidId  # a page parameter that is not what the collection pages by


def optional_id(request: Request, name: str) -> int | None:
    """A status/activity id cursor (max_id, min_id, since_id), or None when absent."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    return parse_id(value, name)


def page_number(request: Request, name: str = "page") -> int | None:
    """A 1-based page number, or None when the parameter is absent."""
    value = request.query_params.get(name)
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 1_000_000:
        raise BadCursor(f"{name} must be a page number from 1, not {value[:40]!r}")
    return int(value)


def limit(request: Request, default: int, maximum: int) -> int:
    """How many items a page holds; Mastodon clamps rather than refuses, and so do we."""
    value = request.query_params.get("limit")
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise BadCursor(f"limit must be a whole number, not {value[:40]!r}")
    return max(1, min(int(value), maximum))
