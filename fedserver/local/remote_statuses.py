"""Remote statuses: storing posts that peers deliver, applying their edits and deletions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub import addressing
from fedserver.activitypub.shapes import Note
from fedserver.ids import id_at, new_id
from fedserver.local import html, notifications, polls
from fedserver.local import streams
from fedserver.local.errors import NotAllowed
from fedserver.local.search import index_status
from fedserver.local.models.actors import Actor
from fedserver.local.models.media import MediaAttachment
from fedserver.outbox import published
from fedserver.local.models.statuses import Mention, Status, StatusEdit, StatusTag, Tag

MAX_ATTACHMENTS = 16


async def find(session: AsyncSession, ap_id: str) -> Status | None:
    """A status (local or remote) by its IRI."""
    return (await session.scalars(select(Status).where(Status.ap_id == ap_id))).first()


async def store(session: AsyncSession, note: Note, author: Actor, *, now: datetime, backfill: bool = False) -> Status:
    """Store a post a peer sent; redelivery returns the stored one. Its id is its arrival time,
    or its published time when fetched later as history (DESIGN.md, Identity and order)."""
    existing = await find(session, note.ap_id)
    if existing is not None:
        return existing
    if author.domain == "":
        raise NotAllowed(f"{note.ap_id} claims to be by our own {author.ap_id}")
    parent = await find(session, note.in_reply_to) if note.in_reply_to else None
    status = Status(
        id=id_at(note.published) if backfill else new_id(), ap_id=note.ap_id, url=note.url or note.ap_id,
        author_id=author.id, object_type=note.type, is_local=False,
        visibility=addressing.visibility_of(note.to, note.cc, author.followers_url),
        title=note.name[:512] if note.name else None,
        content_html=html.clean(note.content_html), spoiler_text=(note.summary or "")[:1024],
        is_sensitive=note.sensitive, language=note.language, in_reply_to_id=parent.id if parent else None,
        in_reply_to_ap_id=note.in_reply_to, published_at=note.published, created_at=now,
        # GoToSocial sends updated == published on new posts: only a later time is an edit.
        edited_at=note.updated if note.updated and note.updated > note.published else None,
    )
    status.thread_ap_id = (parent.thread_ap_id if parent else None) or note.conversation or note.in_reply_to or note.ap_id
    session.add(status)
    await session.flush()
    await _attach(session, status, note, author)
    if note.poll is not None:
        await polls.store_remote(session, status.id, note.poll)
    await _notify_mentions(session, status, author, now)
    await index_status(session, status)
    if not backfill:  # history fetched later is no news (Mastodon fans out only what is delivered)
        await streams.on_status_created(session, status, author)
    return status


async def update(session: AsyncSession, note: Note, author: Actor, *, now: datetime) -> Status | None:
    """Apply an edit by the post's own author, keeping the former version in the history."""
    status = await find(session, note.ap_id)
    if status is None:
        return None
    if status.author_id != author.id:
        raise NotAllowed(f"{author.ap_id} may not edit {note.ap_id}")
    content_html = html.clean(note.content_html)
    changed = (content_html, note.summary or "", note.sensitive, note.name) != (
        status.content_html, status.spoiler_text, status.is_sensitive, status.title)
    if changed:  # a closing poll sends Update with the same text: that is no edit (Mastodon does the same)
        session.add(StatusEdit(status_id=status.id, content_html=status.content_html,
                               spoiler_text=status.spoiler_text, is_sensitive=status.is_sensitive,
                               created_at=status.edited_at or status.published_at))
        status.edited_at = note.updated or now
    status.content_html = content_html
    status.spoiler_text = (note.summary or "")[:1024]
    status.is_sensitive = note.sensitive
    status.title = note.name[:512] if note.name else None
    for table in (Mention, StatusTag):
        await session.execute(delete(table).where(table.status_id == status.id))
    await session.execute(delete(MediaAttachment).where(MediaAttachment.status_id == status.id))
    await session.flush()
    await _attach(session, status, note, author)
    if note.poll is not None:  # closing a poll, or new counts
        await polls.store_remote(session, status.id, note.poll)
    await index_status(session, status)
    await streams.on_status_updated(session, status, author)
    return status


async def remove(session: AsyncSession, ap_id: str, author: Actor) -> bool:
    """Delete a remote post for good (rows, tags, likes, boosts of it); only its author may."""
    status = await find(session, ap_id)
    if status is None:
        return False
    if status.author_id != author.id:
        raise NotAllowed(f"{author.ap_id} may not delete {ap_id}")
    await streams.on_status_deleted(session, status, author)  # before the row goes: its audience is read from it
    await session.execute(delete(Status).where(Status.id == status.id))
    await published.forget_object(session, ap_id)  # our boosts of it leave our outboxes too
    return True


async def _attach(session: AsyncSession, status: Status, note: Note, author: Actor) -> None:
    hrefs = [mention.href for mention in note.mentions]
    if hrefs:
        known = (await session.scalars(select(Actor.id).where(Actor.ap_id.in_(hrefs)))).all()
        session.add_all(Mention(status_id=status.id, actor_id=actor_id) for actor_id in dict.fromkeys(known))
    for name in dict.fromkeys(tag.name.lstrip("#").lower() for tag in note.tags if tag.name.lstrip("#")):
        tag_id = await session.scalar(select(Tag.id).where(Tag.name == name[:255]))
        if tag_id is None:
            tag = Tag(name=name[:255], display_name=name[:255])
            session.add(tag)
            await session.flush()
            tag_id = tag.id
        session.add(StatusTag(status_id=status.id, tag_id=tag_id))
    for position, attachment in enumerate(note.attachments[:MAX_ATTACHMENTS]):
        kind = (attachment.media_type or "").split("/")[0]
        session.add(MediaAttachment(
            owner_id=author.id, status_id=status.id, position=position, remote_url=attachment.url,
            kind=kind if kind in ("image", "video", "audio") else "unknown", content_type=attachment.media_type or "",
            description=attachment.name or "", blurhash=attachment.blurhash, width=attachment.width,
            height=attachment.height,
        ))
    await session.flush()


async def _notify_mentions(session: AsyncSession, status: Status, author: Actor, now: datetime) -> None:
    local = (await session.scalars(
        select(Actor).join(Mention, Mention.actor_id == Actor.id)
        .where(Mention.status_id == status.id, Actor.domain == "")
    )).all()
    for recipient in local:
        await notifications.notify(session, recipient, "mention", author, status_id=status.id, now=now)
