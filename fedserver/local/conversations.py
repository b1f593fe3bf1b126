"""Conversations: the direct posts a local account can see, grouped by thread (Mastodon's conversations).

A conversation's id is the id of its first direct post the account can see; it is paged by its latest post.
Per-account state lives in markers, as a conversation is a small timeline of its own: `c:<id>` is read up
to, `h:<id>` hidden up to (a newer post brings a hidden conversation back, as on Mastodon).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fedserver.local.errors import NotFound
from fedserver.local.models.actors import Actor
from fedserver.local.models.clients import Marker
from fedserver.local.models.statuses import DIRECT, Mention, Status
from fedserver.local.timelines import Paging, newest_first, paged
from fedserver.local.visibility import visible_to

READ, HIDDEN = "c:", "h:"


@dataclass
class Conversation:
    id: int
    last_status: Status
    participant_ids: list[int]  # everyone in it but the viewer (the viewer alone for notes to self)
    is_unread: bool


def _direct_to(viewer_id: int) -> list[ColumnElement[bool]]:
    mention = aliased(Mention)  # its own name: queries that join mentions must not correlate this one away
    mentioned = select(mention.status_id).where(mention.actor_id == viewer_id)
    return [Status.visibility == DIRECT, Status.reblog_of_id.is_(None),
            (Status.author_id == viewer_id) | Status.id.in_(mentioned), visible_to(viewer_id)]


def _groups(viewer_id: int) -> Any:
    return (select(Status.thread_ap_id.label("thread"), func.max(Status.id).label("last_id"),
                   func.min(Status.id).label("first_id"))
            .where(*_direct_to(viewer_id)).group_by(Status.thread_ap_id).subquery())


async def page(session: AsyncSession, viewer: Actor, account_id: int, paging: Paging) -> list[Conversation]:
    """The account's conversations, the one with the newest post first, paged by that post's id."""
    groups = _groups(viewer.id)
    hidden = select(Marker.id).where(Marker.account_id == account_id,
                                     Marker.timeline == literal(HIDDEN) + cast(groups.c.first_id, String),
                                     Marker.last_read_id >= groups.c.last_id)
    query = select(groups.c.thread, groups.c.last_id, groups.c.first_id).where(~hidden.exists())
    rows = newest_first(list((await session.execute(paged(query, groups.c.last_id, paging))).all()), paging)
    return await _assemble(session, viewer, account_id, [(row[0], row[1], row[2]) for row in rows])


async def find(session: AsyncSession, viewer: Actor, account_id: int, conversation_id: int) -> Conversation:
    """One conversation of the account by its id; NotFound for anything else."""
    thread = await session.scalar(select(Status.thread_ap_id).where(Status.id == conversation_id,
                                                                    *_direct_to(viewer.id)))
    groups = _groups(viewer.id)
    row = (await session.execute(select(groups.c.thread, groups.c.last_id, groups.c.first_id)
                                 .where(groups.c.thread == thread))).first() if thread else None
    if row is None or row[2] != conversation_id:
        raise NotFound("Record not found")
    return (await _assemble(session, viewer, account_id, [(row[0], row[1], row[2])]))[0]


async def mark_read(session: AsyncSession, viewer: Actor, account_id: int, conversation_id: int, *,
                    now: datetime) -> Conversation:
    """Mark a conversation read up to its latest post."""
    conversation = await find(session, viewer, account_id, conversation_id)
    await _mark(session, account_id, READ, conversation, now)
    conversation.is_unread = False
    return conversation


async def hide(session: AsyncSession, viewer: Actor, account_id: int, conversation_id: int, *, now: datetime) -> None:
    """Take a conversation off the account's list until someone posts in it again; the posts stay."""
    conversation = await find(session, viewer, account_id, conversation_id)
    await _mark(session, account_id, HIDDEN, conversation, now)


async def _mark(session: AsyncSession, account_id: int, prefix: str, conversation: Conversation,
                now: datetime) -> None:
    timeline = f"{prefix}{conversation.id}"
    marker = await session.scalar(select(Marker).where(Marker.account_id == account_id, Marker.timeline == timeline))
    if marker is None:
        session.add(Marker(account_id=account_id, timeline=timeline, last_read_id=conversation.last_status.id,
                           version=0, updated_at=now))
    else:
        marker.last_read_id, marker.version, marker.updated_at = conversation.last_status.id, marker.version + 1, now
    await session.flush()


async def _assemble(session: AsyncSession, viewer: Actor, account_id: int,
                    rows: list[tuple[str, int, int]]) -> list[Conversation]:
    """Last posts, participants and read state of a page of conversations: three queries."""
    if not rows:
        return []
    threads = [row[0] for row in rows]
    last = {s.id: s for s in (await session.scalars(select(Status).where(Status.id.in_([r[1] for r in rows])))).all()}
    in_threads = [Status.thread_ap_id.in_(threads), *_direct_to(viewer.id)]
    named = aliased(Mention)  # aliased so that visible_to's own mention test keeps its FROM
    people = union_all(
        select(Status.thread_ap_id, Status.author_id).where(*in_threads),
        select(Status.thread_ap_id, named.actor_id).join(named, named.status_id == Status.id).where(*in_threads))
    participants: dict[str | None, list[int]] = {}
    for thread, actor_id in (await session.execute(people)).all():
        if actor_id != viewer.id and actor_id not in participants.setdefault(thread, []):
            participants[thread].append(actor_id)
    read = dict((await session.execute(select(Marker.timeline, Marker.last_read_id).where(
        Marker.account_id == account_id, Marker.timeline.in_([f"{READ}{row[2]}" for row in rows])))).all())
    result = []
    for thread, last_id, first_id in rows:
        status = last[last_id]
        unread = status.author_id != viewer.id and read.get(f"{READ}{first_id}", 0) < last_id
        result.append(Conversation(id=first_id, last_status=status, is_unread=unread,
                                   participant_ids=participants.get(thread) or [viewer.id]))
    return result
