"""Who boosted or favourited a status, as a viewer may list them: public and unlisted boosts only,
nobody the viewer blocks, is blocked by or has muted (Mastodon's reblogged_by and favourited_by)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Block, Like, Mute
from fedserver.local.models.statuses import LISTED_VISIBILITIES, Status
from fedserver.local.timelines import Paging, newest_first, paged

Page = list[tuple[int, Actor]]  # (the boost's or like's id, which pages; who did it)


async def boosters(session: AsyncSession, status: Status, viewer: Actor | None, page: Paging, *,
                   now: datetime) -> Page:
    """Accounts that boosted the status publicly, newest boost first."""
    query = (select(Status.id, Actor).join(Actor, Actor.id == Status.author_id)
             .where(Status.reblog_of_id == status.id, Status.visibility.in_(LISTED_VISIBILITIES),
                    _not_excluded(viewer, now)))
    return await _page(session, query, Status.id, page)


async def likers(session: AsyncSession, status: Status, viewer: Actor | None, page: Paging, *,
                 now: datetime) -> Page:
    """Accounts that favourited the status, newest first."""
    query = (select(Like.id, Actor).join(Actor, Actor.id == Like.actor_id)
             .where(Like.status_id == status.id, _not_excluded(viewer, now)))
    return await _page(session, query, Like.id, page)


async def _page(session: AsyncSession, query: Any, column: Any, page: Paging) -> Page:
    rows = (await session.execute(paged(query, column, page))).all()
    return newest_first([(row[0], row[1]) for row in rows], page)


def _not_excluded(viewer: Actor | None, now: datetime) -> ColumnElement[bool]:
    if viewer is None:
        return true()
    blocked = exists().where(or_(and_(Block.actor_id == viewer.id, Block.target_id == Actor.id),
                                 and_(Block.actor_id == Actor.id, Block.target_id == viewer.id)))
    muted = exists().where(Mute.actor_id == viewer.id, Mute.target_id == Actor.id,
                           or_(Mute.expires_at.is_(None), Mute.expires_at > now))
    return and_(~blocked, ~muted)
