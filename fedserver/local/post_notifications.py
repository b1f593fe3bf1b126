"""Who hears of a local post: the residents it mentions, followers who asked to be told of new posts,
and, after an edit, the residents who boosted it (Mastodon's mention, status and update notifications)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import notifications
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import ACCEPTED, Follow
from fedserver.local.models.statuses import DIRECT, Mention, Status


async def tell_new(session: AsyncSession, status: Status, author: Actor, *, now: datetime) -> None:
    """Notify mentioned residents, then followers with notify=true (not of direct posts or replies to others)."""
    mentioned = (await session.scalars(select(Actor).join(Mention, Mention.actor_id == Actor.id).where(
        Mention.status_id == status.id, Actor.domain == ""))).all()
    for recipient in mentioned:
        await notifications.notify(session, recipient, "mention", author, status_id=status.id, now=now)
    replying_to_others = status.in_reply_to_id is not None and await session.scalar(
        select(Status.author_id).where(Status.id == status.in_reply_to_id)) != author.id
    if status.visibility == DIRECT or replying_to_others:
        return
    told = {actor.id for actor in mentioned}
    followers = (await session.scalars(select(Actor).join(Follow, Follow.follower_id == Actor.id).where(
        Follow.target_id == author.id, Follow.state == ACCEPTED, Follow.notify.is_(True), Actor.domain == ""))).all()
    for recipient in followers:
        if recipient.id not in told:
            await notifications.notify(session, recipient, "status", author, status_id=status.id, now=now)


async def tell_edited(session: AsyncSession, status: Status, author: Actor, *, now: datetime) -> None:
    """Residents who boosted a post hear that it changed."""
    boosters = (await session.scalars(select(Actor).join(Status, Status.author_id == Actor.id).where(
        Status.reblog_of_id == status.id, Actor.domain == ""))).all()
    for recipient in boosters:
        await notifications.notify(session, recipient, "update", author, status_id=status.id, now=now)
