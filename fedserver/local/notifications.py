"""Notifications: telling a local actor that someone followed, mentioned, liked or boosted them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Block, Mute
from fedserver.local.models.notifications import KINDS, Notification


async def notify(session: AsyncSession, recipient: Actor, kind: str, from_actor: Actor, *,
                 status_id: int | None = None, now: datetime) -> Notification | None:
    """Add a notification for a local recipient, unless it is about themselves or someone they block or mute."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if recipient.domain != "" or recipient.id == from_actor.id:
        return None
    if await _silenced(session, recipient.id, from_actor.id):
        return None
    notification = Notification(recipient_id=recipient.id, kind=kind, from_actor_id=from_actor.id,
                                status_id=status_id, created_at=now)
    session.add(notification)
    await session.flush()
    return notification


async def withdraw(session: AsyncSession, recipient_id: int, kind: str, from_actor_id: int,
                   status_id: int | None = None) -> None:
    """Remove a notification whose cause was undone (an unfollow, an unlike)."""
    query = delete(Notification).where(Notification.recipient_id == recipient_id, Notification.kind == kind,
                                       Notification.from_actor_id == from_actor_id)
    if status_id is not None:
        query = query.where(Notification.status_id == status_id)
    await session.execute(query)


async def _silenced(session: AsyncSession, recipient_id: int, from_actor_id: int) -> bool:
    blocked = select(Block.id).where(Block.actor_id == recipient_id, Block.target_id == from_actor_id)
    muted = select(Mute.id).where(Mute.actor_id == recipient_id, Mute.target_id == from_actor_id,
                                  Mute.hide_notifications.is_(True))
    return (await session.scalar(blocked)) is not None or (await session.scalar(muted)) is not None
