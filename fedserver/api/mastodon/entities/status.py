"""Status entity (docs.joinmastodon.org/entities/Status): a page of statuses in a fixed number of queries."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub import dates
from fedserver.api.mastodon.entities.account import acct, render_accounts
from fedserver.api.mastodon.entities.filter import apply_filters
from fedserver.api.mastodon.entities.media import render_media
from fedserver.api.mastodon.entities.poll import render_polls
from fedserver.local.models.actors import Actor
from fedserver.local.models.clients import ThreadMute
from fedserver.local.models.interactions import Bookmark, Like, Pin
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import Mention, Status, StatusTag, Tag
from fedserver.local.urls import LocalUrls


async def render_statuses(session: AsyncSession, urls: LocalUrls, statuses: Sequence[Status],
                          viewer: Actor | None, viewer_account_id: int | None = None,
                          filter_context: str | None = None) -> list[dict[str, Any]]:
    """Status entities in the given order; boosts carry their original in `reblog`; with a filter
    context (home, notifications, public, thread, account) the viewer's filters fill `filtered`."""
    originals = await _by_id(session, [s.reblog_of_id for s in statuses if s.reblog_of_id])
    every = {s.id: s for s in statuses} | originals
    parents = dict((await session.execute(select(Status.id, Status.author_id).where(
        Status.id.in_([s.in_reply_to_id for s in every.values() if s.in_reply_to_id])))).all())
    authors = {a.id: a for a in (await session.scalars(
        select(Actor).where(Actor.id.in_({s.author_id for s in every.values()})))).all()}
    context = _Context(
        urls=urls, accounts=await render_accounts(session, urls, list(authors.values())), parents=parents,
        media=await _grouped(session, MediaAttachment, MediaAttachment.status_id, every, MediaAttachment.position),
        mentions=await _mentions(session, urls, every), tags=await _tags(session, urls, every),
        counts=await _counts(session, every), viewer=await _viewer_state(session, every, viewer, viewer_account_id),
        polls=await render_polls(session, list(every.values()), viewer),
    )
    rendered = [context.render(status, every.get(status.reblog_of_id or -1)) for status in statuses]
    if filter_context is not None and viewer_account_id is not None:
        await apply_filters(session, viewer_account_id, filter_context, statuses, every, rendered)
    return rendered


async def render_status(session: AsyncSession, urls: LocalUrls, status: Status, viewer: Actor | None,
                        viewer_account_id: int | None = None) -> dict[str, Any]:
    return (await render_statuses(session, urls, [status], viewer, viewer_account_id))[0]


class _Context:
    def __init__(self, **parts: Any) -> None:
        self.__dict__.update(parts)

    def render(self, status: Status, original: Status | None) -> dict[str, Any]:
        if original is not None:  # a boost: its own id and time, the original inside
            entity = self._one(original)
            return {**self._one(status), "reblog": entity, "content": "", "media_attachments": [], "mentions": [],
                    "tags": [], "reblogged": entity["reblogged"], "favourited": entity["favourited"],
                    "bookmarked": entity["bookmarked"]}
        return self._one(status)

    def _one(self, status: Status) -> dict[str, Any]:
        replies, reblogs, favourites = (count.get(status.id, 0) for count in self.counts)
        liked, boosted, marked, pinned, muted = (status.id in ids for ids in self.viewer)
        return {
            "id": str(status.id), "uri": status.ap_id, "url": status.url or status.ap_id,
            "account": self.accounts[status.author_id],
            "in_reply_to_id": str(status.in_reply_to_id) if status.in_reply_to_id else None,
            "in_reply_to_account_id": str(self.parents[status.in_reply_to_id])
            if status.in_reply_to_id in self.parents else None,
            "reblog": None, "content": status.content_html, "created_at": _time(status.published_at),
            "edited_at": _time(status.edited_at) if status.edited_at else None, "emojis": [],
            "replies_count": replies, "reblogs_count": reblogs, "favourites_count": favourites,
            "reblogged": boosted, "favourited": liked, "muted": muted, "bookmarked": marked, "pinned": pinned,
            "sensitive": status.is_sensitive, "spoiler_text": status.spoiler_text, "visibility": status.visibility,
            "media_attachments": [render_media(self.urls, item) for item in self.media.get(status.id, [])],
            "mentions": self.mentions.get(status.id, []), "tags": self.tags.get(status.id, []),
            "card": None, "poll": self.polls.get(status.id), "application": None, "language": status.language, "filtered": [],
        }


def _time(moment: Any) -> str:
    """Mastodon's timestamps carry milliseconds: 2026-11-25T14:28:40.123Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


timestamp = _time  # the same format for the other entities (Notification, Marker, Filter ...)


async def _by_id(session: AsyncSession, ids: list[int]) -> dict[int, Status]:
    if not ids:
        return {}
    return {s.id: s for s in (await session.scalars(select(Status).where(Status.id.in_(ids)))).all()}


async def _grouped(session: AsyncSession, model: Any, column: Any, every: dict[int, Status],
                   order: Any) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in (await session.scalars(select(model).where(column.in_(list(every))).order_by(order))).all():
        grouped.setdefault(getattr(row, column.key), []).append(row)
    return grouped


async def _mentions(session: AsyncSession, urls: LocalUrls, every: dict[int, Status]) -> dict[int, list[Any]]:
    rows = await session.execute(select(Mention.status_id, Actor).join(Actor, Actor.id == Mention.actor_id)
                                 .where(Mention.status_id.in_(list(every))))
    grouped: dict[int, list[Any]] = {}
    for status_id, actor in rows.all():
        grouped.setdefault(status_id, []).append({"id": str(actor.id), "username": actor.username,
                                                  "url": actor.url or actor.ap_id, "acct": acct(urls, actor)})
    return grouped


async def _tags(session: AsyncSession, urls: LocalUrls, every: dict[int, Status]) -> dict[int, list[Any]]:
    rows = await session.execute(select(StatusTag.status_id, Tag.name).join(Tag, Tag.id == StatusTag.tag_id)
                                 .where(StatusTag.status_id.in_(list(every))))
    grouped: dict[int, list[Any]] = {}
    for status_id, name in rows.all():
        grouped.setdefault(status_id, []).append({"name": name, "url": urls.tag(name)})
    return grouped


async def _counts(session: AsyncSession, every: dict[int, Status]) -> tuple[dict[int, int], ...]:
    ids = list(every)
    # One round trip for the three counts (replies, reblogs, favourites): a timeline page's cost is mostly
    # its number of queries (bench/home_timeline.py).
    parts = [select(literal(kind), column, func.count()).select_from(model).where(column.in_(ids)).group_by(column)
             for kind, (column, model) in enumerate(((Status.in_reply_to_id, Status), (Status.reblog_of_id, Status),
                                                     (Like.status_id, Like)))]
    results: tuple[dict[int, int], ...] = ({}, {}, {})
    for kind, status_id, count in (await session.execute(union_all(*parts))).all():
        results[kind][status_id] = count
    return results


async def _viewer_state(session: AsyncSession, every: dict[int, Status], viewer: Actor | None,
                        account_id: int | None) -> tuple[set[int], ...]:
    if viewer is None:
        return set(), set(), set(), set(), set()
    ids = list(every)

    # liked, boosted, bookmarked, pinned: one round trip, each row tagged with which of the four it is.
    parts = [select(literal(kind), column).where(actor == viewer.id, column.in_(ids)) for kind, (column, actor) in
             enumerate(((Like.status_id, Like.actor_id), (Status.reblog_of_id, Status.author_id),
                        (Bookmark.status_id, Bookmark.actor_id), (Pin.status_id, Pin.actor_id)))]
    found: tuple[set[int], ...] = (set(), set(), set(), set())
    for kind, status_id in (await session.execute(union_all(*parts))).all():
        found[kind].add(status_id)
    liked, boosted, marked, pinned = found
    threads = {s.thread_ap_id for s in every.values() if s.thread_ap_id}
    muted_threads = set((await session.scalars(select(ThreadMute.thread_ap_id).where(
        ThreadMute.account_id == (account_id or -1), ThreadMute.thread_ap_id.in_(threads))))) if threads else set()
    muted = {s.id for s in every.values() if s.thread_ap_id in muted_threads}
    return liked, boosted, marked, pinned, muted
