"""Paging by id for the web UI: "older" is ?max_id=, "newer" is ?min_id= (the timelines' own cursors)."""
from __future__ import annotations

from dataclasses import dataclass

PAGE_SIZE = 20


@dataclass(frozen=True)
class Window:
    """A page as fedserver.local.timelines.Paging reads it."""

    max_id: int | None = None
    min_id: int | None = None
    since_id: int | None = None
    limit: int = PAGE_SIZE


@dataclass(frozen=True)
class Links:
    older: str | None
    newer: str | None


def links(window: Window, ids: list[int], *, newer: bool = True) -> Links:
    """Links to the next older and newer pages of a list shown newest first; "newer" only once paged back,
    and only where the list can be read upwards (newer=False: public pages page by max_id alone)."""
    if not newer:
        return Links(older=f"?max_id={ids[-1]}" if len(ids) >= window.limit else None, newer=None)
    if not ids:
        return Links(older=None, newer=f"?min_id={window.max_id}" if window.max_id else None)
    older = f"?max_id={ids[-1]}" if len(ids) >= window.limit else None
    paged = window.max_id is not None or window.min_id is not None
    return Links(older=older, newer=f"?min_id={ids[0]}" if paged else None)
