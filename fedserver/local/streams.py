"""Stream events: who hears about a status or a notification, written in the same transaction as the change.

Every server process reads these rows (fedserver/api/mastodon/streaming) and sends them to the
clients it holds, so an event raised in one process (a post through the API, a delivery handled
by a worker) reaches listeners in every other. Stream names follow Mastodon's channels:
public, public:local, public:remote (each also :media), hashtag:<tag>, hashtag:<tag>:local,
user:<actor id> (the home timeline), user:<actor id>:notification, list:<list id>, direct:<actor id>
(which carries `conversation` events only, as on Mastodon 4). An event names a stream, never a
reader: the listener re-checks visibility when it sends.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fedserver.db import utcnow
from fedserver.ids import new_id
from fedserver.local.models.accounts import Account
from fedserver.local.models.actors import Actor
from fedserver.local.models.clients import List, ListMember
from fedserver.local.models.interactions import ACCEPTED, Follow
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.notifications import Notification
from fedserver.local.models.statuses import DIRECT, PUBLIC, Mention, Status, StatusTag, Tag
from fedserver.local.models.streams import StreamEvent

UPDATE, STATUS_UPDATE, DELETE, NOTIFICATION = "update", "status.update", "delete", "notification"
CONVERSATION = "conversation"


def user(actor_id: int) -> str:
    """The home timeline stream of a local actor."""
    return f"user:{actor_id}"


def notifications_of(actor_id: int) -> str:
    return f"user:{actor_id}:notification"


def direct(actor_id: int) -> str:
    return f"direct:{actor_id}"


def of_list(list_id: int) -> str:
    return f"list:{list_id}"


def hashtag(name: str, *, local: bool = False) -> str:
    return f"hashtag:{name.lower()}" + (":local" if local else "")


async def on_status_created(session: AsyncSession, status: Status, author: Actor) -> None:
    """A new post or boost: `update` to every stream whose readers may see it arrive, and for a
    direct post `conversation` to the direct streams of those in it."""
    timelines, conversations = _split(await audience(session, status, author))
    await _write(session, timelines, UPDATE, status.id)
    await _write(session, conversations, CONVERSATION, status.id)


async def on_status_updated(session: AsyncSession, status: Status, author: Actor) -> None:
    """An edit: `status.update` to the timeline streams that got the post."""
    await _write(session, _split(await audience(session, status, author))[0], STATUS_UPDATE, status.id)


async def on_status_deleted(session: AsyncSession, status: Status, author: Actor) -> None:
    """A deletion, announced before the row goes (its audience is read from it): `delete` with the id."""
    await _write(session, _split(await audience(session, status, author))[0], DELETE, None,
                 payload=str(status.id))


async def on_notification(session: AsyncSession, notification: Notification) -> None:
    """A new notification, for its recipient's notification stream."""
    await _write(session, [notifications_of(notification.recipient_id)], NOTIFICATION, notification.id)


async def audience(session: AsyncSession, status: Status, author: Actor) -> list[str]:
    """The streams a status goes to, following Mastodon's fan-out on write (FanOutOnWriteService)."""
    streams = await _public_streams(session, status, author)
    homes = await _home_readers(session, status, author)
    streams += [user(actor_id) for actor_id in homes]
    if status.visibility != DIRECT:
        streams += [of_list(list_id) for list_id in await _lists_with(session, status, author)]
    else:
        mentioned = await _local_mentioned(session, status.id)
        streams += [direct(actor_id) for actor_id in dict.fromkeys([*mentioned, *_if_local(author)])]
    return list(dict.fromkeys(streams))


async def prune(session: AsyncSession, *, older_than: datetime) -> int:
    """Forget events older than the moment given: listeners that missed them are long gone."""
    result = await session.execute(delete(StreamEvent).where(StreamEvent.created_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)


async def _write(session: AsyncSession, streams: list[str], event: str, object_id: int | None, *,
                 payload: str = "") -> None:
    if not streams:
        return
    now = utcnow()
    # One multi-row INSERT: a popular author's post makes one row per local follower.
    await session.execute(insert(StreamEvent), [
        {"id": new_id(), "stream": stream, "event": event, "object_id": object_id, "payload": payload,
         "created_at": now} for stream in streams])


def _split(names: list[str]) -> tuple[list[str], list[str]]:
    """Timeline streams, and direct streams (which take only `conversation` events)."""
    return ([name for name in names if not name.startswith("direct:")],
            [name for name in names if name.startswith("direct:")])


def _if_local(actor: Actor) -> list[int]:
    return [actor.id] if actor.domain == "" else []


async def _public_streams(session: AsyncSession, status: Status, author: Actor) -> list[str]:
    """Public, not a boost (Mastodon's broadcastable?): the federated, local or remote and tag streams."""
    if status.visibility != PUBLIC or status.reblog_of_id is not None:
        return []
    is_local = author.domain == ""
    where = "public:local" if is_local else "public:remote"
    streams = ["public", where]
    has_media = await session.scalar(select(exists().where(MediaAttachment.status_id == status.id)))
    if has_media:
        streams += ["public:media", f"{where}:media"]
    tags = (await session.scalars(select(Tag.name).join(StatusTag, StatusTag.tag_id == Tag.id)
                                  .where(StatusTag.status_id == status.id))).all()
    for name in tags:
        streams.append(hashtag(name))
        if is_local:
            streams.append(hashtag(name, local=True))
    return streams


async def _home_readers(session: AsyncSession, status: Status, author: Actor) -> list[int]:
    """Local readers whose home timeline gets the status: followers (mentioned followers only for
    direct posts; only those who take boosts for a boost) and the author; replies only reach
    readers who also follow the one replied to (Mastodon's FeedManager#filter_from_home)."""
    query = (select(Follow.follower_id).join(Actor, Actor.id == Follow.follower_id)
             .where(Follow.target_id == author.id, Follow.state == ACCEPTED, Actor.domain == ""))
    if status.reblog_of_id is not None:
        query = query.where(Follow.show_reblogs.is_(True))
    if status.visibility == DIRECT:
        query = query.where(exists().where(Mention.status_id == status.id, Mention.actor_id == Follow.follower_id))
    parent_author = await _parent_author(session, status)
    if parent_author is not None and parent_author != author.id:
        also = aliased(Follow)
        query = query.where((Follow.follower_id == parent_author) | exists().where(
            also.follower_id == Follow.follower_id, also.target_id == parent_author, also.state == ACCEPTED))
    readers = list((await session.scalars(query)).all())
    return list(dict.fromkeys([*_if_local(author), *readers]))


async def _parent_author(session: AsyncSession, status: Status) -> int | None:
    if status.in_reply_to_id is None:
        return None
    return await session.scalar(select(Status.author_id).where(Status.id == status.in_reply_to_id))


async def _lists_with(session: AsyncSession, status: Status, author: Actor) -> list[int]:
    """Lists that hold the author, of owners who follow the author (Mastodon's deliver_to_lists)."""
    query = (select(List.id).join(ListMember, ListMember.list_id == List.id)
             .join(Account, Account.id == List.account_id)
             .join(Follow, (Follow.follower_id == Account.actor_id) & (Follow.target_id == author.id))
             .where(ListMember.actor_id == author.id, Follow.state == ACCEPTED))
    return list((await session.scalars(query)).all())


async def _local_mentioned(session: AsyncSession, status_id: int) -> list[int]:
    query = (select(Mention.actor_id).join(Actor, Actor.id == Mention.actor_id)
             .where(Mention.status_id == status_id, Actor.domain == ""))
    return list((await session.scalars(query)).all())
