"""Notifications: telling a local actor that someone followed, mentioned, liked or boosted them."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.ids import lowest_id_at
from fedserver.local import streams, thread_mutes
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Block, DomainBlock, Mute
from fedserver.local.errors import NotFound
from fedserver.local.models.notifications import KINDS, Notification
from fedserver.local.models.statuses import Status
from fedserver.local.timelines import Paging, newest_first, paged
from fedserver.local.visibility import visible_to

GROUPED_KINDS = ("favourite", "reblog", "follow")  # Mastodon's GROUPABLE_NOTIFICATION_TYPES
MAX_GROUP_SPAN = timedelta(hours=12)  # Mastodon's MAXIMUM_GROUP_SPAN_HOURS


async def notify(session: AsyncSession, recipient: Actor, kind: str, from_actor: Actor, *,
                 status_id: int | None = None, now: datetime) -> Notification | None:
    """Add a notification for a local recipient, unless it is about themselves or someone they block or mute."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    # A poll's author is told that their own poll ended (Mastodon does the same).
    if recipient.domain != "" or (recipient.id == from_actor.id and kind != "poll"):
        return None
    if await _silenced(session, recipient.id, from_actor.id):
        return None
    if status_id is not None and await thread_mutes.silences(session, recipient.id, status_id):
        return None
    notification = Notification(recipient_id=recipient.id, kind=kind, from_actor_id=from_actor.id,
                                status_id=status_id, created_at=now,
                                group_key=await _group_key(session, recipient.id, kind, status_id, now))
    session.add(notification)
    await session.flush()
    await streams.on_notification(session, notification)
    return notification


async def _group_key(session: AsyncSession, recipient_id: int, kind: str, status_id: int | None,
                     now: datetime) -> str | None:
    """Mastodon 4.3's Notification#set_group_key!: likes and boosts of one status, and follows, share a key
    named after the hour the group began; a group spans at most MAX_GROUP_SPAN, then a new one begins."""
    if kind not in GROUPED_KINDS:
        return None
    prefix = kind if kind == "follow" else f"{kind}-{status_id}"
    hour = int(now.timestamp()) // 3600
    span_start = lowest_id_at(now - MAX_GROUP_SPAN)  # ids are times: an index range, not a scan
    query = select(Notification.group_key).where(
        Notification.recipient_id == recipient_id, Notification.id >= span_start, Notification.kind == kind,
        Notification.group_key.is_not(None)).order_by(Notification.id.desc()).limit(1)
    if kind != "follow":
        query = query.where(Notification.status_id == status_id)
    previous = await session.scalar(query)
    if previous is not None:
        previous_hour = int(previous.rsplit("-", 1)[1])
        if hour < previous_hour + MAX_GROUP_SPAN // timedelta(hours=1):
            hour = previous_hour
    return f"{prefix}-{hour}"


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
    # A server the recipient hides (local/domain_blocks.py) sends them no notifications either.
    domain = select(Actor.domain).where(Actor.id == from_actor_id).scalar_subquery()
    hidden = select(DomainBlock.id).where(DomainBlock.actor_id == recipient_id, DomainBlock.domain == domain)
    return any([await session.scalar(query) is not None for query in (blocked, muted, hidden)])


def readable(recipient_id: int) -> list[ColumnElement[bool]]:
    """A recipient's notifications whose status (if any) they may still see, from no one they block."""
    status_visible = select(Status.id).where(Status.id == Notification.status_id, visible_to(recipient_id)).exists()
    blocked = select(Block.id).where(Block.actor_id == recipient_id, Block.target_id == Notification.from_actor_id)
    return [Notification.recipient_id == recipient_id, ~blocked.exists(),
            or_(Notification.status_id.is_(None), status_visible)]


async def page(session: AsyncSession, recipient_id: int, paging: Paging, *, types: Sequence[str] = (),
               exclude_types: Sequence[str] = (), from_actor_id: int | None = None) -> list[Notification]:
    """A page of the recipient's notifications, newest first, narrowed by type and by who caused them."""
    query = select(Notification).where(*readable(recipient_id))
    if types:
        query = query.where(Notification.kind.in_(list(types)))
    if exclude_types:
        query = query.where(Notification.kind.not_in(list(exclude_types)))
    if from_actor_id is not None:
        query = query.where(Notification.from_actor_id == from_actor_id)
    return newest_first(list((await session.scalars(paged(query, Notification.id, paging))).all()), paging)


async def find_own(session: AsyncSession, recipient_id: int, notification_id: int) -> Notification:
    """One of the recipient's notifications; anyone else's is not found."""
    found = await session.scalar(select(Notification).where(Notification.id == notification_id,
                                                            *readable(recipient_id)))
    if found is None:
        raise NotFound("Record not found")
    return found


async def dismiss(session: AsyncSession, recipient_id: int, notification_id: int) -> None:
    """Delete one of the recipient's notifications; NotFound when it is not theirs."""
    result = await session.execute(delete(Notification).where(Notification.id == notification_id,
                                                              Notification.recipient_id == recipient_id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("Record not found")


async def clear(session: AsyncSession, recipient_id: int) -> None:
    """Delete all of the recipient's notifications."""
    await session.execute(delete(Notification).where(Notification.recipient_id == recipient_id))


async def count_unread(session: AsyncSession, recipient_id: int, after_id: int | None, *, limit: int) -> int:
    """How many readable notifications came after the marker, counted up to `limit` (Mastodon's unread_count)."""
    query = select(Notification.id).where(*readable(recipient_id))
    if after_id is not None:
        query = query.where(Notification.id > after_id)
    return int(await session.scalar(select(func.count()).select_from(query.limit(limit).subquery())) or 0)
