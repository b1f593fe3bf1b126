"""Events rendered for one listener: statuses as that viewer sees them, and only those they may see.

A stream event names a stream, not a reader, so the visibility rule runs again here, for this
viewer, at the moment of sending (fedserver.local.visibility): a followers-only post never leaves
the server for anyone outside its audience, even if a follow ended in between. A batch of events
costs a fixed number of queries, whatever its size.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.api.mastodon.entities.conversation import render_conversations
from fedserver.api.mastodon.entities.filter import is_hidden
from fedserver.api.mastodon.entities.notification import render_notifications
from fedserver.api.mastodon.entities.status import render_statuses
from fedserver.api.mastodon.streaming.channels import Viewer
from fedserver.api.mastodon.streaming.hub import Event, Listener
from fedserver.db import utcnow
from fedserver.local import conversations, streams
from fedserver.local.errors import NotFound
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import DomainBlock, Mute
from fedserver.local.models.notifications import Notification
from fedserver.local.models.statuses import DIRECT, Status
from fedserver.local.urls import LocalUrls
from fedserver.local.visibility import visible_to

Outgoing = tuple[Listener, str, str]  # the subscription, the event name, the payload as a string
STATUS_EVENTS = (streams.UPDATE, streams.STATUS_UPDATE)


async def render_batch(session: AsyncSession, urls: LocalUrls, viewer: Viewer,
                       batch: Sequence[tuple[Listener, Event]]) -> list[Outgoing]:
    """What to send for each event, in order; events the viewer may not see are left out."""
    wanted: dict[str, list[int]] = {}
    for listener, event in batch:
        if event.event in STATUS_EVENTS and event.object_id:
            wanted.setdefault(_filter_context(listener), []).append(event.object_id)
    statuses = {context: await _statuses_for(session, urls, viewer, ids, context) for context, ids in wanted.items()}
    notifications = await _notifications_for(session, urls, viewer, [
        event.object_id for _, event in batch if event.event == streams.NOTIFICATION and event.object_id])
    conversations = await _conversations_for(session, urls, viewer, [
        event.object_id for _, event in batch if event.event == streams.CONVERSATION and event.object_id])
    outgoing: list[Outgoing] = []
    for listener, event in batch:
        if event.event in STATUS_EVENTS:
            entity = statuses.get(_filter_context(listener), {}).get(event.object_id or 0)
        elif event.event == streams.NOTIFICATION:
            entity = notifications.get(event.object_id or 0)
        elif event.event == streams.CONVERSATION:
            entity = conversations.get(event.object_id or 0)
        else:  # delete and the like carry their payload as written
            outgoing.append((listener, event.event, event.payload))
            continue
        if entity is not None:
            outgoing.append((listener, event.event, _dump(entity)))
    return outgoing


def _filter_context(listener: Listener) -> str:
    """Which of the viewer's filters apply: those for public timelines on public and tag streams, else home."""
    return "public" if listener.name[0].startswith(("public", "hashtag")) else "home"


async def _statuses_for(session: AsyncSession, urls: LocalUrls, viewer: Viewer, ids: list[int],
                        context: str) -> dict[int, dict[str, Any]]:
    """Status entities the viewer may see, without authors they mute, servers they block, or posts
    their filters hide."""
    me = viewer.actor.id
    rows = list((await session.scalars(select(Status).where(Status.id.in_(ids), visible_to(me)))).all())
    original_ids = [row.reblog_of_id for row in rows if row.reblog_of_id]
    originals = {row.id: row for row in (await session.scalars(
        select(Status).where(Status.id.in_(original_ids), visible_to(me)))).all()} if original_ids else {}
    rows = [row for row in rows if row.reblog_of_id is None or row.reblog_of_id in originals]
    hidden = await _hidden_authors(session, viewer, {s.author_id for s in [*rows, *originals.values()]})
    rows = [row for row in rows if row.author_id not in hidden
            and (row.reblog_of_id is None or originals[row.reblog_of_id].author_id not in hidden)]
    entities = await render_statuses(session, urls, rows, viewer.actor, viewer.account.id, filter_context=context)
    return {row.id: entity for row, entity in zip(rows, entities) if not is_hidden(entity)}


async def _hidden_authors(session: AsyncSession, viewer: Viewer, author_ids: set[int]) -> set[int]:
    """Authors the viewer mutes (until the mute expires) or whose whole server the viewer blocks."""
    me = viewer.actor.id
    author_ids.discard(me)
    if not author_ids:
        return set()
    muted = set((await session.scalars(select(Mute.target_id).where(
        Mute.actor_id == me, Mute.target_id.in_(author_ids),
        or_(Mute.expires_at.is_(None), Mute.expires_at > utcnow())))).all())
    blocked_domains = select(DomainBlock.domain).where(DomainBlock.actor_id == me)
    on_blocked = set((await session.scalars(select(Actor.id).where(
        Actor.id.in_(author_ids), Actor.domain != "", Actor.domain.in_(blocked_domains)))).all())
    return muted | on_blocked


async def _notifications_for(session: AsyncSession, urls: LocalUrls, viewer: Viewer,
                             ids: list[int]) -> dict[int, dict[str, Any]]:
    """The viewer's own notifications whose status, if any, they may still see."""
    if not ids:
        return {}
    me = viewer.actor.id
    status_visible = select(Status.id).where(Status.id == Notification.status_id, visible_to(me)).exists()
    rows = (await session.scalars(select(Notification).where(
        Notification.id.in_(ids), Notification.recipient_id == me,
        or_(Notification.status_id.is_(None), status_visible)))).all()
    rendered = await render_notifications(session, urls, rows, viewer.actor, viewer.account.id)
    return {int(entity["id"]): entity for entity in rendered}


async def _conversations_for(session: AsyncSession, urls: LocalUrls, viewer: Viewer,
                             status_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The viewer's conversation holding each direct post (a conversation's id is its first post the
    viewer can see); rare enough to look up one by one."""
    me, found = viewer.actor.id, {}
    for status_id in dict.fromkeys(status_ids):
        thread = select(Status.thread_ap_id).where(Status.id == status_id).scalar_subquery()
        first_id = await session.scalar(select(func.min(Status.id)).where(
            Status.thread_ap_id == thread, Status.visibility == DIRECT, visible_to(me)))
        try:
            conversation = await conversations.find(session, viewer.actor, viewer.account.id, first_id or 0)
        except NotFound:
            continue
        if conversation.last_status.id == status_id:  # a newer post has its own event
            found[status_id] = (await render_conversations(session, urls, [conversation], viewer.actor,
                                                           viewer.account.id))[0]
    return found


def _dump(entity: dict[str, Any]) -> str:
    return json.dumps(entity, ensure_ascii=False, separators=(",", ":"))
