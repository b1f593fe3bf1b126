"""Mutes: an account hides someone from its feeds (and, by choice, notifications); never federated."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.errors import Invalid, NotAllowed
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Mute

MAX_DURATION = timedelta(days=366 * 10)  # longer than any client offers; beyond it "for ever" is meant


def active(now: datetime) -> ColumnElement[bool]:
    """A SQL condition on Mute: not expired (a mute with a duration ends by itself)."""
    return or_(Mute.expires_at.is_(None), Mute.expires_at > now)


async def mute(session: AsyncSession, actor: Actor, target: Actor, *, notifications: bool = True,
               duration_seconds: int = 0, now: datetime) -> Mute:
    """Mute someone (again: the options are replaced); duration 0 mutes until unmuted."""
    if actor.id == target.id:
        raise NotAllowed("you cannot mute yourself")
    if duration_seconds < 0 or timedelta(seconds=duration_seconds) > MAX_DURATION:
        raise Invalid("duration", "ERR_INVALID", "duration is a number of seconds, 0 for no end")
    expires_at = now + timedelta(seconds=duration_seconds) if duration_seconds else None
    row = await find(session, actor.id, target.id)
    if row is None:
        row = Mute(actor_id=actor.id, target_id=target.id)
        session.add(row)
    row.hide_notifications, row.expires_at = notifications, expires_at
    await session.flush()
    return row


async def unmute(session: AsyncSession, actor: Actor, target: Actor) -> None:
    """Lift a mute; nothing happens when there was none."""
    await session.execute(delete(Mute).where(Mute.actor_id == actor.id, Mute.target_id == target.id))


async def find(session: AsyncSession, actor_id: int, target_id: int) -> Mute | None:
    return (await session.scalars(select(Mute).where(Mute.actor_id == actor_id, Mute.target_id == target_id))).first()


async def active_among(session: AsyncSession, actor_id: int, target_ids: list[int], *,
                       now: datetime) -> dict[int, Mute]:
    """The actor's unexpired mutes of these targets, by target id."""
    if not target_ids:
        return {}
    query = select(Mute).where(Mute.actor_id == actor_id, Mute.target_id.in_(target_ids), active(now))
    return {row.target_id: row for row in (await session.scalars(query)).all()}


async def purge_expired(session: AsyncSession, *, now: datetime) -> int:
    """Delete mutes whose time is up (housekeeping; reads already ignore them)."""
    result = await session.execute(delete(Mute).where(Mute.expires_at.is_not(None), Mute.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
