"""Likes (Mastodon: favourites): giving, taking back, and receiving them from peers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.ids import new_id
from fedserver.local import group_relay, notifications
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Like
from fedserver.local.errors import NotFound
from fedserver.local.models.statuses import Status
from fedserver.local.visibility import can_see
from fedserver.local.urls import LocalUrls
from fedserver.outbox import activities
from fedserver.outbox.publish import publish


@dataclass(frozen=True)
class GroupRelay:
    """What a group needs to pass a peer's Undo{Like} on: the Undo as it came, our URLs and the time."""

    urls: LocalUrls
    undo: dict[str, Any]
    now: datetime


async def like(session: AsyncSession, urls: LocalUrls, actor: Actor, status: Status, *, now: datetime) -> Like:
    """A local actor likes a status it may see; a remote author's server gets a Like (each with its own id)."""
    if not await can_see(session, actor, status):
        raise NotFound("Record not found")
    existing = (await session.scalars(select(Like).where(Like.actor_id == actor.id, Like.status_id == status.id))).first()
    if existing is not None:
        return existing
    like_id = new_id()
    row = Like(id=like_id, actor_id=actor.id, status_id=status.id, ap_id=urls.activity(actor.username, like_id),
               created_at=now)
    session.add(row)
    await session.flush()
    author = await session.get(Actor, status.author_id)
    assert author is not None
    activity = activities.build_like(row.ap_id or "", actor.ap_id, status.ap_id)
    if author.domain == "":
        await notifications.notify(session, author, "favourite", actor, status_id=status.id, now=now)
    else:
        await publish(session, activity, inbox_urls=[author.inbox_url])
    # A post in one of our groups: the group Announces the Like to its members, as it does a peer's (FEP-1b12).
    await group_relay.relay_followup(session, urls, status, actor, activity, now=now)
    return row


async def unlike(session: AsyncSession, urls: LocalUrls, actor: Actor, status: Status, *, now: datetime) -> None:
    """Take a like back; a remote author's server gets Undo{Like}, and a group the post is in Announces it."""
    row = (await session.scalars(select(Like).where(Like.actor_id == actor.id, Like.status_id == status.id))).first()
    if row is None:
        return
    await session.execute(delete(Like).where(Like.id == row.id))
    author = await session.get(Actor, status.author_id)
    assert author is not None
    undone = activities.build_like(row.ap_id or "", actor.ap_id, status.ap_id)
    undo = activities.build_undo(urls.activity(actor.username, new_id()), actor.ap_id, undone)
    if author.domain == "":
        await notifications.withdraw(session, author.id, "favourite", actor.id, status.id)
    else:
        await publish(session, undo, inbox_urls=[author.inbox_url])
    await group_relay.relay_followup(session, urls, status, actor, undo, now=now)


async def record_remote(session: AsyncSession, liker: Actor, status: Status, activity_ap_id: str,
                        *, now: datetime) -> bool:
    """A peer's Like of one of our statuses; redelivery and double likes are no-ops."""
    query = select(Like.id).where((Like.ap_id == activity_ap_id) | ((Like.actor_id == liker.id) & (Like.status_id == status.id)))
    if await session.scalar(query) is not None:
        return False
    session.add(Like(actor_id=liker.id, status_id=status.id, ap_id=activity_ap_id, created_at=now))
    await session.flush()
    author = await session.get(Actor, status.author_id)
    if author is not None:
        await notifications.notify(session, author, "favourite", liker, status_id=status.id, now=now)
    return True


async def undo_remote(session: AsyncSession, liker: Actor, activity_ap_id: str | None, status: Status | None,
                      relay: GroupRelay | None = None) -> bool:
    """Undo{Like} from a peer, matched by the Like's id or by (liker, status); with `relay`, a group of ours
    that the post is in Announces the Undo to its members (as Lemmy does)."""
    query = select(Like).where(Like.actor_id == liker.id)
    if activity_ap_id:
        query = query.where((Like.ap_id == activity_ap_id) | (Like.status_id == (status.id if status else -1)))
    elif status is not None:
        query = query.where(Like.status_id == status.id)
    row = (await session.scalars(query)).first()
    if row is None:
        return False
    await session.execute(delete(Like).where(Like.id == row.id))
    liked = await session.get(Status, row.status_id)
    if liked is not None:
        await notifications.withdraw(session, liked.author_id, "favourite", liker.id, row.status_id)
    if liked is not None and relay is not None:
        # The Like as we stored it, whether the Undo embedded it or named it by IRI only.
        like = activities.build_like(row.ap_id or "", liker.ap_id, liked.ap_id)
        undo = dict(relay.undo, object={key: value for key, value in like.items() if key != "@context"})
        await group_relay.relay_followup(session, relay.urls, liked, liker, undo, now=relay.now)
    return True


async def count(session: AsyncSession, status_id: int) -> int:
    return int(await session.scalar(select(func.count(Like.id)).where(Like.status_id == status_id)) or 0)
