"""Bookmarks: statuses a resident keeps for later; private to them and never federated."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import visibility
from fedserver.local.errors import NotFound
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Bookmark
from fedserver.local.models.statuses import Status


async def bookmark(session: AsyncSession, actor: Actor, status: Status) -> None:
    """Keep a status the actor may see; bookmarking twice is one bookmark."""
    if not await visibility.can_see(session, actor, status):
        raise NotFound("Record not found")
    known = await session.scalar(select(Bookmark.id).where(Bookmark.actor_id == actor.id,
                                                           Bookmark.status_id == status.id))
    if known is None:
        session.add(Bookmark(actor_id=actor.id, status_id=status.id))
        await session.flush()


async def unbookmark(session: AsyncSession, actor: Actor, status: Status) -> None:
    """Forget a bookmark; there may be none."""
    await session.execute(delete(Bookmark).where(Bookmark.actor_id == actor.id, Bookmark.status_id == status.id))
