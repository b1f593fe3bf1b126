"""Deleting one's own account: every row and file goes, and every server that knew it is told.

DESIGN.md, privacy promises: no soft delete. What stays for a while is a tombstone: the actor row
with nothing but its IRI, username, inboxes and key pair (kind TOMBSTONE, no account row, so it is
never shown, served or found by WebFinger). It exists because the Delete{actor} we queue must be
signed with that key, for as long as deliveries are retried (about two days at most, see
outbox/deliveries.py). `purge_tombstones` (run by housekeeping) removes a tombstone, its key and
its last outbox rows once none of its deliveries is pending any more. While it waits it accepts
no followers (it is locked; pending requests go with it) and its username stays taken, so nobody
can take over the name while other servers still hear from the old actor.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, exists, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fedserver.db import Base
from fedserver.ids import new_id
from fedserver.local import avatars, media, streams
from fedserver.local.models.accounts import Account
from fedserver.local.models.actors import Actor
from fedserver.local.models.events import Event
from fedserver.local.models.interactions import Block, Follow, Like
from fedserver.local.models.places import Place
from fedserver.local.models.shops import Shop
from fedserver.local.models.statuses import Mention, Status
from fedserver.local.models.streams import StreamEvent
from fedserver.local.urls import LocalUrls
from fedserver.outbox import activities, deliveries, fanout, published
from fedserver.outbox.publish import publish

TOMBSTONE = "Tombstone"  # Actor.kind of a deleted local account (AS2's word for what remains)


@dataclass(frozen=True)
class Deletion:
    """What deleting an account left to do outside the transaction."""

    actor_ap_id: str
    inbox_urls: list[str]  # where Delete{actor} is queued
    files: list[str]  # profile pictures (media-dir paths) to remove once the transaction has committed


async def delete_account(session: AsyncSession, urls: LocalUrls, account: Account, now: datetime) -> Deletion:
    """Remove an account with all its rows and uploads, and queue Delete{actor} to every server that knew it."""
    actor = account.actor
    inboxes = await _servers_that_know(session, actor)
    files = [path for path in (avatars.path_of(urls, actor.icon_url), avatars.path_of(urls, actor.image_url)) if path]
    places = await _places_of(session, actor)
    await media.forget_actor_media(session, actor.id)  # rows now, files after the commit
    await published.forget_actor(session, actor.ap_id)  # the outbox, and with it deliveries not yet sent
    await session.execute(delete(StreamEvent).where(StreamEvent.stream.in_(
        [streams.user(actor.id), streams.notifications_of(actor.id), streams.direct(actor.id)])))
    await session.execute(delete(Account).where(Account.id == account.id))
    await _delete_rows_of(session, actor.id)
    actor.place_id = None
    await session.flush()
    await _delete_unused_places(session, places)
    if not inboxes:  # nobody to tell: nothing needs the key
        await session.execute(delete(Actor).where(Actor.id == actor.id))
        return Deletion(actor.ap_id, [], files)
    _leave_tombstone(actor, now)
    await session.flush()
    await publish(session, activities.build_actor_delete(actor.ap_id, urls.activity(actor.username, new_id())),
                  inbox_urls=inboxes)
    return Deletion(actor.ap_id, inboxes, files)


async def purge_tombstones(session: AsyncSession) -> int:
    """Remove tombstones whose Delete deliveries are all finished (sent, gone or given up); how many."""
    tombstones = (await session.scalars(select(Actor).where(Actor.domain == "", Actor.kind == TOMBSTONE))).all()
    purged = 0
    for actor in tombstones:
        if await deliveries.inboxes_of_sender(session, actor.ap_id, pending_only=True):
            continue
        await published.forget_actor(session, actor.ap_id)  # the Delete itself, and its delivery rows
        await session.execute(delete(Actor).where(Actor.id == actor.id))  # the key goes with it (cascade)
        purged += 1
    return purged


def _leave_tombstone(actor: Actor, now: datetime) -> None:
    """Keep only what signing and addressing the Delete need."""
    actor.kind = TOMBSTONE
    actor.display_name, actor.summary_html, actor.fields_json = "", "", "[]"
    actor.icon_url = actor.image_url = actor.topic = None
    actor.manually_approves_followers = True  # a Follow arriving now stays pending and goes with it
    actor.is_discoverable = actor.is_indexable = actor.is_bot = False
    actor.updated_at = now


async def _servers_that_know(session: AsyncSession, actor: Actor) -> list[str]:
    """Inboxes of every server that holds the account's followers, follows or posts, one per shared inbox."""
    me = actor.id
    mine = select(Status.id).where(Status.author_id == me)
    other = aliased(Status)
    told = union(
        select(Follow.follower_id).where(Follow.target_id == me),  # followers (and requests)
        select(Follow.target_id).where(Follow.follower_id == me),  # followed: they got our Follow
        select(Block.target_id).where(Block.actor_id == me),
        select(Mention.actor_id).where(Mention.status_id.in_(mine)),
        select(Like.actor_id).where(Like.status_id.in_(mine)),  # who liked, boosted or answered a post
        select(other.author_id).where(or_(other.reblog_of_id.in_(mine), other.in_reply_to_id.in_(mine))),
        select(Status.author_id).join(Like, Like.status_id == Status.id).where(Like.actor_id == me),
        select(other.author_id).join(Status, or_(Status.reblog_of_id == other.id, Status.in_reply_to_id == other.id))
        .where(Status.author_id == me),
    )
    rows = (await session.execute(select(Actor.inbox_url, Actor.shared_inbox_url)
                                  .where(Actor.domain != "", Actor.id.in_(told)))).all()
    recent = await deliveries.inboxes_of_sender(session, actor.ap_id)  # whatever else was sent lately
    return fanout.inbox_urls([(row.inbox_url, row.shared_inbox_url) for row in rows]
                             + [(inbox, None) for inbox in recent])


async def _delete_rows_of(session: AsyncSession, actor_id: int) -> None:
    """Every row that names the actor goes (statuses, follows, likes, blocks, mutes, notifications ...),
    found through the schema's foreign keys, so that a table added later is not forgotten."""
    for table, column, ondelete in _references(Actor.__table__):  # type: ignore[arg-type]
        if table.name in ("actor_keys", "accounts"):
            continue
        if (ondelete or "").upper() == "SET NULL":
            await session.execute(update(table).where(column == actor_id).values({column.name: None}))
        else:
            await session.execute(delete(table).where(column == actor_id))


async def _places_of(session: AsyncSession, actor: Actor) -> set[int]:
    found: set[int | None] = {actor.place_id}
    found |= set((await session.scalars(select(Shop.place_id).where(Shop.actor_id == actor.id))).all())
    found |= set((await session.scalars(select(Event.place_id).join(Status, Status.id == Event.status_id)
                                        .where(Status.author_id == actor.id))).all())
    return {place_id for place_id in found if place_id is not None}


async def _delete_unused_places(session: AsyncSession, place_ids: set[int]) -> None:
    """The account's addresses go, unless something else (another account's event) still uses them."""
    references = [column for _table, column, _ondelete in _references(Place.__table__)]  # type: ignore[arg-type]
    for place_id in place_ids:
        if not await session.scalar(select(or_(*(exists().where(column == place_id) for column in references)))):
            await session.execute(delete(Place).where(Place.id == place_id))


def _references(target: Table) -> list[tuple[Table, Any, str | None]]:
    """(table, column, ondelete) of every foreign key that points at the target table."""
    return [(table, key.parent, key.ondelete) for table in Base.metadata.sorted_tables
            for key in table.foreign_keys if key.column.table is target]
