"""Statuses: posting, finding and deleting, with the visibility rule in one place."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.ids import id_at, new_id
from fedserver.local import follows, wire
from fedserver.local import attachments, group_relay, polls, post_notifications, streams, visibility
from fedserver.local.errors import Invalid, NotFound
from fedserver.local.media import forget_status_media
from fedserver.local.search import index_status
from fedserver.activitypub.shapes import Note
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Pin
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import LISTED_VISIBILITIES, VISIBILITIES, Mention, Status, StatusEdit, StatusTag, Tag
from fedserver.local.text import MentionTarget, mention_candidates, render_plain
from fedserver.local.urls import LocalUrls
from fedserver.outbox import activities, fanout, published
from fedserver.outbox.publish import publish

MAX_CHARACTERS = 5000
MAX_SPOILER = 1024


async def create(
    session: AsyncSession,
    urls: LocalUrls,
    author: Actor,
    text: str,
    *,
    visibility: str = "public",
    spoiler_text: str = "",
    is_sensitive: bool = False,
    language: str | None = None,
    in_reply_to: Status | None = None,
    media: Sequence[MediaAttachment] = (),
    poll: polls.PollDraft | None = None,
    now: datetime,
) -> Status:
    """Post a status by a local actor and publish its Create to the audience; raises Invalid.
    `media` comes from attachments.claim; a reply must answer a post the author may see."""
    _check(text, visibility, spoiler_text, media=bool(media), poll=poll is not None)
    await _check_reply(session, author, in_reply_to)
    targets = await _resolve_mentions(session, urls, text)
    rendered = render_plain(text, lambda user, host: targets.get((user.lower(), _domain_key(urls, host))), urls.tag)
    status_id = id_at(now)  # a local post's id is its creation time (DESIGN.md)
    status = Status(
        id=status_id, ap_id=urls.status(author.username, status_id), url=urls.status_page(author.username, status_id),
        author_id=author.id, visibility=visibility, is_local=True, content_html=rendered.html, source_text=text,
        spoiler_text=spoiler_text.strip(), is_sensitive=is_sensitive or bool(spoiler_text.strip()),
        language=language, published_at=now, created_at=now,
        in_reply_to_id=in_reply_to.id if in_reply_to else None,
        in_reply_to_ap_id=in_reply_to.ap_id if in_reply_to else None,
    )
    status.thread_ap_id = (in_reply_to.thread_ap_id or in_reply_to.ap_id) if in_reply_to else status.ap_id
    session.add(status)
    await session.flush()
    mentioned_ids = await _actor_ids(session, [target.actor_ap_id for target in rendered.mentions])
    session.add_all(Mention(status_id=status.id, actor_id=actor_id) for actor_id in mentioned_ids)
    for tag_id in await _tag_ids(session, rendered.tags):
        session.add(StatusTag(status_id=status.id, tag_id=tag_id))
    await _attach_parts(session, status, media, poll, now)
    await group_relay.claim_audience(session, status)  # a post into a group carries `audience` (FEP-1b12)
    create = await _publish_create(session, urls, status, author)
    await group_relay.relay_new(session, urls, status, author, create, now=now)
    await index_status(session, status)
    await streams.on_status_created(session, status, author)
    await post_notifications.tell_new(session, status, author, now=now)
    return status


async def _publish_create(session: AsyncSession, urls: LocalUrls, status: Status, author: Actor) -> dict[str, Any]:
    note = await wire.note_shape(session, urls, status, author)
    create = activities.build_create(note)
    await publish(
        session, create, inbox_urls=await audience_inboxes(session, status, author),
        is_listed=status.visibility in LISTED_VISIBILITIES, object_ap_id=status.ap_id,
    )
    return create


async def audience_inboxes(session: AsyncSession, status: Status, author: Actor) -> list[str]:
    """Where a local status goes: remote followers (unless direct), mentioned actors, the replied-to author."""
    recipients = await follows.remote_inboxes_of_followers(session, author.id) if status.visibility != "direct" else []
    mentioned = (await session.scalars(select(Mention.actor_id).where(Mention.status_id == status.id))).all()
    recipients += await _remote_inboxes(session, list(mentioned))
    if status.in_reply_to_id is not None and status.visibility != "direct":
        parent_author = await session.scalar(select(Status.author_id).where(Status.id == status.in_reply_to_id))
        recipients += await _remote_inboxes(session, [parent_author] if parent_author else [])
    return fanout.inbox_urls(recipients)


async def edit(session: AsyncSession, urls: LocalUrls, status: Status, author: Actor, text: str, *,
               spoiler_text: str = "", is_sensitive: bool = False, language: str | None = None,
               media: Sequence[MediaAttachment] | None = None,
               poll: polls.PollDraft | None | polls.Unchanged = polls.UNCHANGED, now: datetime) -> Status:
    """Edit a local status: the former version joins the history, everyone who got it gets an Update.
    media None and poll UNCHANGED leave those as they are; [] and None take them off."""
    has_media = bool(media) if media is not None else await _has_media(session, status.id)
    has_poll = poll is not None if poll != polls.UNCHANGED else status.object_type == "Question"
    _check(text, status.visibility, spoiler_text, media=has_media, poll=has_poll)
    targets = await _resolve_mentions(session, urls, text)
    rendered = render_plain(text, lambda user, host: targets.get((user.lower(), _domain_key(urls, host))), urls.tag)
    session.add(StatusEdit(status_id=status.id, content_html=status.content_html, spoiler_text=status.spoiler_text,
                           is_sensitive=status.is_sensitive, created_at=status.edited_at or status.published_at))
    status.content_html, status.source_text = rendered.html, text
    status.spoiler_text = spoiler_text.strip()
    status.is_sensitive = is_sensitive or bool(status.spoiler_text)
    status.language = language or status.language
    status.edited_at = now
    if media is not None:
        await attachments.attach(session, status, media)
    if not isinstance(poll, str):
        await polls.replace_local(session, status, poll, now=now)
    await session.execute(sql_delete(StatusTag).where(StatusTag.status_id == status.id))
    for tag_id in await _tag_ids(session, rendered.tags):
        session.add(StatusTag(status_id=status.id, tag_id=tag_id))
    known = set((await session.scalars(select(Mention.actor_id).where(Mention.status_id == status.id))).all())
    for actor_id in await _actor_ids(session, [target.actor_ap_id for target in rendered.mentions]):
        if actor_id not in known:  # mentions are only ever added: who was told stays in the audience
            session.add(Mention(status_id=status.id, actor_id=actor_id))
    await session.flush()
    note = await wire.note_shape(session, urls, status, author)
    update = activities.build_update(note, urls.activity(author.username, new_id()), now)
    await published.replace_object(session, status.ap_id, update["object"])
    await index_status(session, status)
    await publish(session, update, inbox_urls=await audience_inboxes(session, status, author),
                  object_ap_id=status.ap_id)
    await group_relay.relay_followup(session, urls, status, author, update, now=now)
    await streams.on_status_updated(session, status, author)
    await post_notifications.tell_edited(session, status, author, now=now)
    return status


async def find_local(session: AsyncSession, status_id: int) -> tuple[Status, Actor]:
    """One of our own statuses (not a boost) with its author; raises NotFound."""
    row = (await session.execute(
        select(Status, Actor).join(Actor, Actor.id == Status.author_id)
        .where(Status.id == status_id, Status.is_local.is_(True), Status.reblog_of_id.is_(None))
    )).first()
    if row is None:
        raise NotFound("there is no such post here")
    return row[0], row[1]


async def pinned_notes(session: AsyncSession, urls: LocalUrls, actor: Actor) -> list[Note]:
    """The actor's pinned public and unlisted posts as Notes, newest pin first."""
    query = (select(Status).join(Pin, Pin.status_id == Status.id)
             .where(Pin.actor_id == actor.id, Status.visibility.in_(LISTED_VISIBILITIES)).order_by(Pin.id.desc()))
    return [await wire.note_shape(session, urls, status, actor) for status in (await session.scalars(query)).all()]


async def count_listed_replies(session: AsyncSession, status_id: int) -> int:
    """How many public and unlisted replies to a status we hold."""
    query = select(func.count(Status.id)).where(Status.in_reply_to_id == status_id,
                                                Status.visibility.in_(LISTED_VISIBILITIES))
    return int(await session.scalar(query) or 0)


async def listed_replies(session: AsyncSession, status_id: int, *, offset: int, limit: int) -> list[str]:
    """IRIs of public and unlisted replies to a status, oldest first (the order a thread reads)."""
    query = (select(Status.ap_id).where(Status.in_reply_to_id == status_id,
                                        Status.visibility.in_(LISTED_VISIBILITIES))
             .order_by(Status.id).offset(offset).limit(limit))
    return list((await session.scalars(query)).all())


def is_listed(status: Status) -> bool:
    """Whether anyone, signed in or not, may see the status (public and unlisted posts)."""
    return status.visibility in LISTED_VISIBILITIES


async def count_local(session: AsyncSession) -> int:
    """How many posts (not boosts) our residents have written."""
    query = select(func.count(Status.id)).where(Status.is_local.is_(True), Status.reblog_of_id.is_(None))
    return int(await session.scalar(query) or 0)


async def delete(session: AsyncSession, urls: LocalUrls, status: Status, author: Actor, *, now: datetime) -> None:
    """Remove a local status for good and send Delete to everyone who received it."""
    note = await wire.note_shape(session, urls, status, author)
    inboxes = await audience_inboxes(session, status, author)
    await published.forget_object(session, status.ap_id)
    await forget_status_media(session, status.id)  # its files go once this transaction commits
    await streams.on_status_deleted(session, status, author)  # before the row goes: its audience is read from it
    await session.execute(sql_delete(Status).where(Status.id == status.id))
    activity_id = urls.activity(author.username, new_id())
    removal = activities.build_delete(author.ap_id, status.ap_id, activity_id, note.to, note.cc)
    await publish(session, removal, inbox_urls=inboxes, object_ap_id=status.ap_id)
    await group_relay.relay_followup(session, urls, status, author, removal, now=now)


async def check_draft(session: AsyncSession, author: Actor, text: str, *, visibility: str, spoiler_text: str,
                      in_reply_to: Status | None, media: bool, poll: polls.PollDraft | None) -> None:
    """Refuse now what create would refuse later (a scheduled status is checked when it is scheduled)."""
    _check(text, visibility, spoiler_text, media=media, poll=poll is not None)
    if poll is not None:
        polls.check_draft(poll)
    await _check_reply(session, author, in_reply_to)


def _check(text: str, visibility: str, spoiler_text: str, *, media: bool = False, poll: bool = False) -> None:
    if not text.strip() and not media and not poll:
        raise Invalid("status", "ERR_BLANK", "a post needs some text")
    if media and poll:
        raise Invalid("media_ids", "ERR_INVALID", "a post with a poll cannot carry media")
    if len(text) > MAX_CHARACTERS:
        raise Invalid("status", "ERR_TOO_LONG", f"a post has at most {MAX_CHARACTERS} characters")
    if len(spoiler_text) > MAX_SPOILER:
        raise Invalid("spoiler_text", "ERR_TOO_LONG", f"a content warning has at most {MAX_SPOILER} characters")
    if visibility not in VISIBILITIES:
        raise Invalid("visibility", "ERR_INVALID", f"visibility must be one of {', '.join(VISIBILITIES)}")


async def _check_reply(session: AsyncSession, author: Actor, in_reply_to: Status | None) -> None:
    """A reply answers a post its author may see; anything else does not exist for them (Mastodon: 404)."""
    if in_reply_to is not None and not await visibility.can_see(session, author, in_reply_to):
        raise NotFound("The post you are trying to reply to does not appear to exist.")


async def _attach_parts(session: AsyncSession, status: Status, media: Sequence[MediaAttachment],
                        poll: polls.PollDraft | None, now: datetime) -> None:
    await attachments.attach(session, status, media)
    if poll is not None:
        await polls.create_local(session, status, poll, now=now)
    await session.flush()


async def _has_media(session: AsyncSession, status_id: int) -> bool:
    query = select(MediaAttachment.id).where(MediaAttachment.status_id == status_id).limit(1)
    return await session.scalar(query) is not None


def _domain_key(urls: LocalUrls, host: str | None) -> str:
    """'' for our own accounts, whether written @alice or @alice@our.domain."""
    return "" if host is None or host.lower() == urls.domain else host.lower()


async def _resolve_mentions(session: AsyncSession, urls: LocalUrls, text: str) -> dict[tuple[str, str], MentionTarget]:
    """Known actors for each @user or @user@host in the text; unknown ones stay plain text."""
    found: dict[tuple[str, str], MentionTarget] = {}
    for user, host in mention_candidates(text):
        domain = _domain_key(urls, host)
        query = select(Actor).where(Actor.username_key == user.lower(), Actor.domain == domain)
        actor = (await session.scalars(query)).first()
        if actor is not None:
            found[(user.lower(), domain)] = MentionTarget(actor.ap_id, actor.username, actor.url or actor.ap_id)
    return found


async def _actor_ids(session: AsyncSession, ap_ids: list[str]) -> list[int]:
    if not ap_ids:
        return []
    rows = (await session.execute(select(Actor.ap_id, Actor.id).where(Actor.ap_id.in_(ap_ids)))).all()
    by_ap_id = {row.ap_id: row.id for row in rows}
    return [by_ap_id[ap_id] for ap_id in ap_ids if ap_id in by_ap_id]


async def _remote_inboxes(session: AsyncSession, actor_ids: list[int]) -> list[tuple[str, str | None]]:
    if not actor_ids:
        return []
    rows = (await session.execute(
        select(Actor.inbox_url, Actor.shared_inbox_url).where(Actor.id.in_(actor_ids), Actor.domain != "")
    )).all()
    return [(row.inbox_url, row.shared_inbox_url) for row in rows]


async def _tag_ids(session: AsyncSession, names: list[str]) -> list[int]:
    ids = []
    for display_name in names:
        name = display_name.lower()
        tag_id = await session.scalar(select(Tag.id).where(Tag.name == name))
        if tag_id is None:
            tag = Tag(name=name, display_name=display_name)
            session.add(tag)
            await session.flush()
            tag_id = tag.id
        ids.append(tag_id)
    return ids
