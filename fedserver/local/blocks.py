"""Blocks: a block ends follows both ways and keeps the blocked actor out; peers learn of it by Block."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.ids import new_id
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Block, Follow
from fedserver.local.urls import LocalUrls
from fedserver.outbox import activities
from fedserver.outbox.publish import publish


async def find(session: AsyncSession, actor_id: int, target_id: int) -> Block | None:
    return (await session.scalars(select(Block).where(Block.actor_id == actor_id, Block.target_id == target_id))).first()


async def block(session: AsyncSession, urls: LocalUrls, actor: Actor, target: Actor, *, now: datetime) -> Block:
    """A local actor blocks someone: follows both ways end; a remote target's server gets a Block."""
    existing = await find(session, actor.id, target.id)
    if existing is not None:
        return existing
    block_id = new_id()
    row = Block(id=block_id, actor_id=actor.id, target_id=target.id, ap_id=urls.activity(actor.username, block_id),
                created_at=now)
    session.add(row)
    await _end_follows(session, actor.id, target.id)
    await session.flush()
    if target.domain != "":
        await publish(session, activities.build_block(row.ap_id or "", actor.ap_id, target.ap_id),
                      inbox_urls=[target.inbox_url])
    return row


async def unblock(session: AsyncSession, urls: LocalUrls, actor: Actor, target: Actor, *, now: datetime) -> None:
    """Lift a block; a remote target's server gets Undo{Block}."""
    row = await find(session, actor.id, target.id)
    if row is None:
        return
    await session.execute(delete(Block).where(Block.id == row.id))
    if target.domain != "":
        undone = activities.build_block(row.ap_id or "", actor.ap_id, target.ap_id)
        await publish(session, activities.build_undo(urls.activity(actor.username, new_id()), actor.ap_id, undone),
                      inbox_urls=[target.inbox_url])


async def record_remote(session: AsyncSession, blocker: Actor, target: Actor, activity_ap_id: str,
                        *, now: datetime) -> None:
    """A peer's actor blocks one of ours: we end follows both ways and stop showing them to each other."""
    if await find(session, blocker.id, target.id) is None:
        session.add(Block(actor_id=blocker.id, target_id=target.id, ap_id=activity_ap_id, created_at=now))
    await _end_follows(session, blocker.id, target.id)
    await session.flush()


async def undo_remote(session: AsyncSession, blocker: Actor, target: Actor | None, activity_ap_id: str | None) -> bool:
    query = delete(Block).where(Block.actor_id == blocker.id)
    if target is not None:
        query = query.where(Block.target_id == target.id)
    elif activity_ap_id:
        query = query.where(Block.ap_id == activity_ap_id)
    else:
        return False
    result = await session.execute(query)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _end_follows(session: AsyncSession, first_id: int, second_id: int) -> None:
    await session.execute(delete(Follow).where(
        ((Follow.follower_id == first_id) & (Follow.target_id == second_id))
        | ((Follow.follower_id == second_id) & (Follow.target_id == first_id))))
