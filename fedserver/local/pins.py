"""Pins: up to five of an actor's own public or unlisted posts, featured on the profile."""
from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.errors import Invalid
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Pin
from fedserver.local.models.statuses import LISTED_VISIBILITIES, Status

MAX_PINS = 5  # Mastodon's limit, announced as configuration.accounts.max_pinned_statuses


async def pin(session: AsyncSession, actor: Actor, status: Status) -> None:
    """Feature one of the actor's own public or unlisted posts; raises Invalid with Mastodon's reasons."""
    if status.reblog_of_id is not None:
        raise Invalid("status", "ERR_INVALID", "A boost cannot be pinned")
    if status.author_id != actor.id:
        raise Invalid("status", "ERR_INVALID", "Someone else's post cannot be pinned")
    if status.visibility not in LISTED_VISIBILITIES:
        raise Invalid("status", "ERR_INVALID", "Only public and unlisted posts can be pinned")
    if await session.scalar(select(Pin.id).where(Pin.actor_id == actor.id, Pin.status_id == status.id)):
        return
    count = int(await session.scalar(select(func.count(Pin.id)).where(Pin.actor_id == actor.id)) or 0)
    if count >= MAX_PINS:
        raise Invalid("status", "ERR_TOO_LONG", "You have already pinned the maximum number of posts")
    session.add(Pin(actor_id=actor.id, status_id=status.id))
    await session.flush()


async def unpin(session: AsyncSession, actor: Actor, status: Status) -> None:
    """Take a post off the profile; there may be no pin."""
    await session.execute(delete(Pin).where(Pin.actor_id == actor.id, Pin.status_id == status.id))
