"""Markers: where a reader stopped in the home timeline and in notifications, shared by all their apps."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.errors import Invalid
from fedserver.local.models.clients import Marker

TIMELINES = ("home", "notifications")


async def read(session: AsyncSession, account_id: int, timelines: Sequence[str]) -> dict[str, Marker]:
    """The account's markers for the named timelines that exist (unknown names are ignored)."""
    wanted = [name for name in timelines if name in TIMELINES]
    if not wanted:
        return {}
    rows = await session.scalars(select(Marker).where(Marker.account_id == account_id, Marker.timeline.in_(wanted)))
    return {marker.timeline: marker for marker in rows.all()}


async def save(session: AsyncSession, account_id: int, timeline: str, last_read_id: int, *,
               now: datetime) -> Marker:
    """Move a marker; a new one starts at version 0 and every move adds one (Mastodon's lock_version)."""
    if timeline not in TIMELINES:
        raise Invalid("timeline", "ERR_INCLUSION", f"Timeline {timeline!r} is not included in the list")
    marker = await session.scalar(select(Marker).where(Marker.account_id == account_id, Marker.timeline == timeline))
    if marker is None:
        marker = Marker(account_id=account_id, timeline=timeline, last_read_id=last_read_id, version=0,
                        updated_at=now)
        session.add(marker)
    else:
        marker.last_read_id, marker.version, marker.updated_at = last_read_id, marker.version + 1, now
    await session.flush()
    return marker


async def last_read(session: AsyncSession, account_id: int, timeline: str) -> int | None:
    """The last read id of one timeline, None when the reader never set it."""
    return await session.scalar(select(Marker.last_read_id).where(Marker.account_id == account_id,
                                                                  Marker.timeline == timeline))
