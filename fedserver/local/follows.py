"""Follows: who follows whom, and the collections and audiences that follow from it."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import ACCEPTED, Follow


async def count_followers(session: AsyncSession, actor_id: int) -> int:
    """Accepted followers of an actor."""
    query = select(func.count(Follow.id)).where(Follow.target_id == actor_id, Follow.state == ACCEPTED)
    return int(await session.scalar(query) or 0)


async def count_following(session: AsyncSession, actor_id: int) -> int:
    """Actors this actor follows (accepted)."""
    query = select(func.count(Follow.id)).where(Follow.follower_id == actor_id, Follow.state == ACCEPTED)
    return int(await session.scalar(query) or 0)


async def followers_page(session: AsyncSession, actor_id: int, *, offset: int, limit: int) -> list[str]:
    """IRIs of accepted followers, newest follow first."""
    query = (select(Actor.ap_id).join(Follow, Follow.follower_id == Actor.id)
             .where(Follow.target_id == actor_id, Follow.state == ACCEPTED)
             .order_by(Follow.id.desc()).offset(offset).limit(limit))
    return list((await session.scalars(query)).all())


async def following_page(session: AsyncSession, actor_id: int, *, offset: int, limit: int) -> list[str]:
    """IRIs of the actors this actor follows, newest follow first."""
    query = (select(Actor.ap_id).join(Follow, Follow.target_id == Actor.id)
             .where(Follow.follower_id == actor_id, Follow.state == ACCEPTED)
             .order_by(Follow.id.desc()).offset(offset).limit(limit))
    return list((await session.scalars(query)).all())


async def remote_inboxes_of_followers(session: AsyncSession, actor_id: int) -> list[tuple[str, str | None]]:
    """(inbox, shared inbox) of every remote accepted follower: the audience of a followers post."""
    query = (select(Actor.inbox_url, Actor.shared_inbox_url).join(Follow, Follow.follower_id == Actor.id)
             .where(Follow.target_id == actor_id, Follow.state == ACCEPTED, Actor.domain != ""))
    return [(row.inbox_url, row.shared_inbox_url) for row in (await session.execute(query)).all()]
