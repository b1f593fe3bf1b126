"""Pins: up to five of an actor's own public or unlisted posts, featured on the profile.

Local pins reach followers as Add (and unpins as Remove) to the actor's featured collection, as Mastodon
sends them; a remote actor's pins arrive the same way, or from its featured collection, into the same table.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub import vocab
from fedserver.ids import new_id
from fedserver.local import follows
from fedserver.local.errors import Invalid
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Pin
from fedserver.local.models.statuses import LISTED_VISIBILITIES, Status
from fedserver.local.urls import LocalUrls
from fedserver.outbox import activities, fanout
from fedserver.outbox.publish import publish

MAX_PINS = 5  # Mastodon's limit, announced as configuration.accounts.max_pinned_statuses
# A peer's featured collection is its own business, but what we keep of it stays bounded.
MAX_REMOTE_PINS = 20


async def pin(session: AsyncSession, urls: LocalUrls, actor: Actor, status: Status) -> None:
    """Feature one of the actor's own public or unlisted posts; raises Invalid with Mastodon's reasons.
    Remote followers get Add{status} to the featured collection."""
    if status.reblog_of_id is not None:
        raise Invalid("status", "ERR_INVALID", "A boost cannot be pinned")
    if status.author_id != actor.id:
        raise Invalid("status", "ERR_INVALID", "Someone else's post cannot be pinned")
    if status.visibility not in LISTED_VISIBILITIES:
        raise Invalid("status", "ERR_INVALID", "Only public and unlisted posts can be pinned")
    if await _is_pinned(session, actor, status):
        return
    if await _count(session, actor) >= MAX_PINS:
        raise Invalid("status", "ERR_TOO_LONG", "You have already pinned the maximum number of posts")
    session.add(Pin(actor_id=actor.id, status_id=status.id))
    await session.flush()
    await _publish(session, urls, actor, status, vocab.ADD)


async def unpin(session: AsyncSession, urls: LocalUrls, actor: Actor, status: Status) -> None:
    """Take a post off the profile; there may be no pin. Remote followers get Remove when there was one."""
    if not await _is_pinned(session, actor, status):
        return
    await session.execute(delete(Pin).where(Pin.actor_id == actor.id, Pin.status_id == status.id))
    await _publish(session, urls, actor, status, vocab.REMOVE)


async def _publish(session: AsyncSession, urls: LocalUrls, actor: Actor, status: Status, kind: str) -> None:
    build = activities.build_add if kind == vocab.ADD else activities.build_remove
    activity = build(urls.activity(actor.username, new_id()), actor.ap_id, status.ap_id,
                     actor.featured_url or urls.featured(actor.username))
    inboxes = fanout.inbox_urls(await follows.remote_inboxes_of_followers(session, actor.id))
    await publish(session, activity, inbox_urls=inboxes, object_ap_id=status.ap_id)


async def record_remote(session: AsyncSession, actor: Actor, status: Status) -> str | None:
    """A peer's actor features one of its own listed posts here; the reason when it does not count."""
    if status.author_id != actor.id:  # Mastodon: status.account_id == @account.id (ActivityPub::Activity::Add)
        return f"{status.ap_id} is not by {actor.ap_id}"
    if status.visibility not in LISTED_VISIBILITIES or status.reblog_of_id is not None:
        return "only public and unlisted posts can be pinned"
    if await _is_pinned(session, actor, status):
        return None  # redelivery
    if await _count(session, actor) >= MAX_REMOTE_PINS:
        return f"{actor.ap_id} already has {MAX_REMOTE_PINS} pinned posts here"
    session.add(Pin(actor_id=actor.id, status_id=status.id))
    await session.flush()
    return None


async def remove_remote(session: AsyncSession, actor: Actor, status: Status) -> bool:
    """A peer's actor no longer features the post; False when it was not pinned here."""
    if not await _is_pinned(session, actor, status):
        return False
    await session.execute(delete(Pin).where(Pin.actor_id == actor.id, Pin.status_id == status.id))
    return True


async def replace_remote(session: AsyncSession, actor: Actor, featured: Sequence[Status]) -> None:
    """The actor's featured collection as fetched: exactly these of its own listed posts are pinned now."""
    await session.execute(delete(Pin).where(Pin.actor_id == actor.id))
    for status in list(reversed(featured))[-MAX_REMOTE_PINS:]:  # oldest first: the newest pin gets the newest id
        await record_remote(session, actor, status)


async def _is_pinned(session: AsyncSession, actor: Actor, status: Status) -> bool:
    query = select(Pin.id).where(Pin.actor_id == actor.id, Pin.status_id == status.id)
    return await session.scalar(query) is not None


async def _count(session: AsyncSession, actor: Actor) -> int:
    return int(await session.scalar(select(func.count(Pin.id)).where(Pin.actor_id == actor.id)) or 0)
