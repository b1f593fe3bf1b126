"""What a page of Status entities needs besides the statuses, read in a fixed, small number of queries.

A page's cost is mostly its number of round trips: through aiosqlite each statement is several thread hops
(0.2-0.5 ms on a busy machine), against tens of microseconds of SQLite work (bench/home_timeline.py). So the
per-status facts (counts, the viewer's state, parents, mentions, tags) come back as one UNION ALL of
(kind, status_id, number, text) rows (the accounts, with their counts, are one more: entities/account.py),
and every statement is built once with bound parameters: no ORM instances, no statement building per request.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (BigInteger, BindParameter, Select, String, bindparam, cast, func, literal, null, select,
                        union_all)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fedserver.compiled_read import CompiledRead
from fedserver.local.models.clients import Filter, ThreadMute
from fedserver.local.models.interactions import Bookmark, Like, Pin
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import Mention, Status, StatusTag, Tag

IDS: BindParameter[Any] = bindparam("ids", expanding=True)
VIEWER = bindparam("viewer_id", type_=BigInteger)
ACCOUNT = bindparam("account_id", type_=BigInteger)

# The kinds of fact rows; `number` is a count, an id or 1, `text` a tag's name.
REPLIES, REBLOGS, FAVOURITES, PARENT_AUTHOR, MENTION, TAG, MEDIA = range(7)
FAVOURITED, REBLOGGED, BOOKMARKED, PINNED, MUTED, HAS_FILTERS = range(7, 13)


@dataclass
class Facts:
    """Everything about a page's statuses that is not in their own rows, by status id."""

    counts: tuple[dict[int, int], dict[int, int], dict[int, int]] = field(default_factory=lambda: ({}, {}, {}))
    parent_authors: dict[int, int] = field(default_factory=dict)
    mentioned: dict[int, list[int]] = field(default_factory=dict)      # actor ids, in index order
    tags: dict[int, list[str]] = field(default_factory=dict)            # names, in index order
    with_media: set[int] = field(default_factory=set)
    viewer: tuple[set[int], ...] = field(default_factory=lambda: (set(), set(), set(), set(), set()))
    has_filters: bool = False


# The page's ids are bound once, as a CTE the dozen parts read: expanding them into every part made
# SQLAlchemy render and SQLite parse some 500 parameters per page.
_PAGE = select(Status.id).where(Status.id.in_(IDS)).cte("page")
_ON_PAGE = select(_PAGE.c.id)


def _fact(kind: int, status_id: Any, number: Any, text: Any = None) -> Select[Any]:
    return select(literal(kind), status_id, cast(number, BigInteger),
                  cast(text, String) if text is not None else cast(null(), String))


def _public_facts() -> list[Select[Any]]:
    parent = aliased(Status)
    return [
        _fact(REPLIES, Status.in_reply_to_id, func.count()).where(Status.in_reply_to_id.in_(_ON_PAGE))
        .group_by(Status.in_reply_to_id),
        _fact(REBLOGS, Status.reblog_of_id, func.count()).where(Status.reblog_of_id.in_(_ON_PAGE))
        .group_by(Status.reblog_of_id),
        _fact(FAVOURITES, Like.status_id, func.count()).where(Like.status_id.in_(_ON_PAGE)).group_by(Like.status_id),
        _fact(PARENT_AUTHOR, Status.id, parent.author_id).join(parent, parent.id == Status.in_reply_to_id)
        .where(Status.id.in_(_ON_PAGE)),
        _fact(MENTION, Mention.status_id, Mention.actor_id).where(Mention.status_id.in_(_ON_PAGE)),
        _fact(TAG, StatusTag.status_id, StatusTag.tag_id, Tag.name).join(Tag, Tag.id == StatusTag.tag_id)
        .where(StatusTag.status_id.in_(_ON_PAGE)),
        _fact(MEDIA, MediaAttachment.status_id, func.count()).where(MediaAttachment.status_id.in_(_ON_PAGE))
        .group_by(MediaAttachment.status_id),
    ]


def _viewer_facts() -> list[Select[Any]]:
    one = literal(1)
    return [
        _fact(FAVOURITED, Like.status_id, one).where(Like.actor_id == VIEWER, Like.status_id.in_(_ON_PAGE)),
        _fact(REBLOGGED, Status.reblog_of_id, one).where(Status.author_id == VIEWER, Status.reblog_of_id.in_(_ON_PAGE)),
        _fact(BOOKMARKED, Bookmark.status_id, one).where(Bookmark.actor_id == VIEWER, Bookmark.status_id.in_(_ON_PAGE)),
        _fact(PINNED, Pin.status_id, one).where(Pin.actor_id == VIEWER, Pin.status_id.in_(_ON_PAGE)),
        _fact(MUTED, Status.id, one).join(ThreadMute, ThreadMute.thread_ap_id == Status.thread_ap_id)
        .where(ThreadMute.account_id == ACCOUNT, Status.id.in_(_ON_PAGE)),
        # Whether the account has filters at all: most have none, and then the filter query is skipped.
        _fact(HAS_FILTERS, literal(0), func.count()).select_from(Filter).where(Filter.account_id == ACCOUNT),
    ]


_ANONYMOUS_FACTS = CompiledRead(union_all(*_public_facts()))
_VIEWER_FACTS = CompiledRead(union_all(*_public_facts(), *_viewer_facts()))
_ORIGINALS = CompiledRead(select(Status.__table__).where(Status.id.in_(IDS)))
_MEDIA = CompiledRead(select(MediaAttachment.__table__).where(MediaAttachment.status_id.in_(IDS))
                      .order_by(MediaAttachment.status_id, MediaAttachment.position, MediaAttachment.id))


async def originals(session: AsyncSession, ids: Collection[int]) -> dict[int, Row[Any]]:
    """The statuses boosted on the page, as rows with the Status columns."""
    if not ids:
        return {}
    return {row.id: row for row in await _ORIGINALS.rows(session, {"ids": list(ids)})}


async def facts(session: AsyncSession, ids: Collection[int], viewer_id: int | None,
                account_id: int | None) -> Facts:
    """Counts, parents' authors, mentions, tags, media presence and (signed in) the viewer's state, in one query."""
    found = Facts()
    if not ids:
        return found
    if viewer_id is None:
        rows = await _ANONYMOUS_FACTS.rows(session, {"ids": list(ids)})
    else:
        rows = await _VIEWER_FACTS.rows(session, {"ids": list(ids), "viewer_id": viewer_id,
                                                        "account_id": account_id if account_id is not None else -1})
    ordered: dict[int, list[tuple[int, int, str]]] = {MENTION: [], TAG: []}
    for kind, status_id, number, text in rows:
        if kind < PARENT_AUTHOR:
            found.counts[kind][status_id] = number
        elif kind == PARENT_AUTHOR:
            found.parent_authors[status_id] = number
        elif kind in ordered:
            ordered[kind].append((status_id, number, text))
        elif kind == MEDIA:
            found.with_media.add(status_id)
        elif kind == HAS_FILTERS:
            found.has_filters = number > 0
        else:
            found.viewer[kind - FAVOURITED].add(status_id)
    # (status_id, actor_id) and (status_id, tag_id) are the tables' keys: the order their indexes give.
    for status_id, actor_id, _text in sorted(ordered[MENTION]):
        found.mentioned.setdefault(status_id, []).append(actor_id)
    for status_id, _tag_id, name in sorted(ordered[TAG]):
        found.tags.setdefault(status_id, []).append(name)
    return found


async def media(session: AsyncSession, ids: Collection[int]) -> dict[int, list[Row[Any]]]:
    """The attachments of the statuses that have some, in their order."""
    grouped: dict[int, list[Row[Any]]] = {}
    if ids:
        for row in await _MEDIA.rows(session, {"ids": list(ids)}):
            grouped.setdefault(row.status_id, []).append(row)
    return grouped
