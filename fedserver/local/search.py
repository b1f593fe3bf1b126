"""Search: accounts by name or handle, hashtags by prefix, statuses by their words. No ranking:
exact matches come first among accounts and hashtags, then the alphabet; statuses newest first.

Full text runs on SQLite FTS5 (the `status_search` table of migration 0005, written by `index_status`
whenever a post is created, edited or arrives, and emptied by a trigger when the status row goes) or
on PostgreSQL's own full-text search over an expression index. Which posts a viewer finds follows
the visibility rule (local.visibility) and, like Mastodon, the author's choice: others' posts only
when the author is `indexable` and the post public, or when the viewer is mentioned in it.
"""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, ColumnElement, Integer, MetaData, Select, Table, Text, and_, case, delete, exists
from sqlalchemy import false, func, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from fedserver.ids import LOW_BITS
from fedserver.local import mutes
from fedserver.local.models.accounts import Account
from fedserver.local.models.actors import APPLICATION, Actor
from fedserver.local.models.interactions import ACCEPTED, Block, Follow, Mute
from fedserver.local.models.statuses import PUBLIC, Mention, Status, StatusTag, Tag
from fedserver.local.visibility import visible_to

MAX_TERMS = 8  # words of a query that count; more only make the index work harder
PREFIX_FROM = 3  # shorter words match whole words only: a prefix of one or two letters matches everything
# Kept outside Base.metadata: a virtual table that only SQLite has, made by migration 0005.
STATUS_SEARCH = Table("status_search", MetaData(), Column("rowid", Integer, primary_key=True), Column("body", Text))
# Must stay identical to the expression indexed by migration 0005 (else PostgreSQL scans every row).
PG_DOCUMENT = ("to_tsvector('simple', coalesce(statuses.spoiler_text, '') || ' ' || coalesce(statuses.title, '')"
               " || ' ' || regexp_replace(statuses.content_html, '<[^>]*>', ' ', 'g'))")
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w+")


def words(query: str) -> list[str]:
    """The words of a query, lowercased, at most MAX_TERMS of them."""
    return _WORD.findall(query.lower())[:MAX_TERMS]


def plain_text(status: Status) -> str:
    """What full-text search reads of a post: content warning, title and text without markup."""
    body = html.unescape(_TAG.sub(" ", status.content_html or ""))
    return " ".join(part for part in (status.spoiler_text, status.title or "", body) if part)


def _is_sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


async def index_status(session: AsyncSession, status: Status) -> None:
    """Write a new or edited post's words to the SQLite index (PostgreSQL indexes by itself)."""
    if not _is_sqlite(session) or status.reblog_of_id is not None:
        return
    await session.execute(delete(STATUS_SEARCH).where(STATUS_SEARCH.c.rowid == status.id))
    await session.execute(insert(STATUS_SEARCH).values(rowid=status.id, body=plain_text(status)))


async def purge_deleted(session: AsyncSession) -> None:
    """Merge the SQLite index into one segment, so words of deleted posts leave it too (privacy)."""
    if _is_sqlite(session):
        await session.execute(text("INSERT INTO status_search (status_search) VALUES ('optimize')"))


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def not_blocked(actor_id: ColumnElement[int] | InstrumentedAttribute[int],
                viewer_id: int | None) -> ColumnElement[bool]:
    """No block either way between the viewer (None: anonymous) and the actor in `actor_id`."""
    if viewer_id is None:
        return ~false()
    return ~exists().where(or_(and_(Block.actor_id == viewer_id, Block.target_id == actor_id),
                               and_(Block.actor_id == actor_id, Block.target_id == viewer_id)))


async def accounts(session: AsyncSession, query: str, *, domain: str, viewer_id: int | None = None,
                   following: bool = False, limit: int = 20, offset: int = 0) -> list[Actor]:
    """Actors whose handle or display name starts with the query; `domain` is our own (user@ours is local)."""
    user, _, host = query.strip().lstrip("@").partition("@")
    user, host = user.lower(), host.lower()
    host = "" if host == domain.lower() else host
    if not user:
        return []
    if host:  # a handle: the user and a server that begins with what was typed
        match = and_(Actor.username_key.like(f"{_like(user)}%", escape="\\"),
                     Actor.domain.like(f"{_like(host)}%", escape="\\"))
    else:
        word = _like(query.strip().lstrip("@").lower())
        match = or_(Actor.username_key.like(f"{_like(user)}%", escape="\\"),
                    func.lower(Actor.display_name).like(f"{word}%", escape="\\"),
                    func.lower(Actor.display_name).like(f"% {word}%", escape="\\"))
    exact = and_(Actor.username_key == user, Actor.domain == host)
    statement = (select(Actor).outerjoin(Account, Account.actor_id == Actor.id)
                 .where(match, Actor.kind != APPLICATION, or_(Account.id.is_(None), Account.is_suspended.is_(False)),
                        not_blocked(Actor.id, viewer_id))
                 .order_by(case((exact, 0), else_=1), case((Actor.domain == "", 0), else_=1), Actor.username_key,
                           Actor.domain, Actor.id)
                 .limit(limit).offset(offset))
    if following and viewer_id is not None:
        statement = statement.join(Follow, and_(Follow.target_id == Actor.id, Follow.follower_id == viewer_id,
                                                Follow.state == ACCEPTED))
    return list((await session.scalars(statement)).all())


async def hashtags(session: AsyncSession, query: str, *, limit: int = 20, offset: int = 0) -> list[Tag]:
    """Hashtags that begin with the query (a leading # is ignored), the exact one first."""
    name = query.strip().lstrip("#").lower()
    if not name or not _WORD.fullmatch(name):
        return []
    statement = (select(Tag).where(Tag.name.like(f"{_like(name)}%", escape="\\"))
                 .order_by(case((Tag.name == name, 0), else_=1), Tag.name).limit(limit).offset(offset))
    return list((await session.scalars(statement)).all())


async def tag_history(session: AsyncSession, tag_ids: list[int], *, now: datetime,
                      days: int = 7) -> dict[int, list[dict[str, str]]]:
    """Per tag, posts and distinct authors on each of the last days, newest first (Mastodon's Tag.history)."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=days - 1)
    first_ms = int(first.timestamp() * 1000)
    # Ids are time-ordered (fedserver.ids): the day of a post is arithmetic on its id, on either database.
    day = ((Status.id.op(">>")(LOW_BITS) - first_ms) // 86_400_000).label("day")
    rows = (await session.execute(
        select(StatusTag.tag_id, day, func.count(Status.id), func.count(func.distinct(Status.author_id)))
        .join(Status, Status.id == StatusTag.status_id)
        .where(StatusTag.tag_id.in_(tag_ids), Status.id >= first_ms << LOW_BITS)
        .group_by(StatusTag.tag_id, day))).all() if tag_ids else []
    counts = {(row[0], int(row[1])): (row[2], row[3]) for row in rows}
    return {tag_id: [{"day": str(int((first + timedelta(days=index)).timestamp())),
                      "uses": str(counts.get((tag_id, index), (0, 0))[0]),
                      "accounts": str(counts.get((tag_id, index), (0, 0))[1])}
                     for index in reversed(range(days))] for tag_id in tag_ids}


def _findable_by(viewer_id: int, now: datetime) -> ColumnElement[bool]:
    """Mastodon's searchable_by: one's own posts, posts one is mentioned in, public posts of indexable
    authors one has not muted; always within what the visibility rule lets the viewer see."""
    mentioned = exists().where(Mention.status_id == Status.id, Mention.actor_id == viewer_id)
    indexable = exists().where(Actor.id == Status.author_id, Actor.is_indexable.is_(True))
    muted = exists().where(Mute.actor_id == viewer_id, Mute.target_id == Status.author_id, mutes.active(now))
    return and_(visible_to(viewer_id), or_(Status.author_id == viewer_id, mentioned,
                                           and_(Status.visibility == PUBLIC, indexable, ~muted)))


def _matching(session: AsyncSession, terms: list[str]) -> Select[Any]:
    if _is_sqlite(session):
        # Each word quoted (FTS5 syntax cannot be injected), longer ones as prefixes; all must occur.
        match = " ".join(f'"{term}"*' if len(term) >= PREFIX_FROM else f'"{term}"' for term in terms)
        return (select(Status).join(STATUS_SEARCH, STATUS_SEARCH.c.rowid == Status.id)
                .where(text("status_search MATCH :match").bindparams(match=match)))
    tsquery = " & ".join(f"{term}:*" if len(term) >= PREFIX_FROM else term for term in terms)
    return select(Status).where(text(f"{PG_DOCUMENT} @@ to_tsquery('simple', :tsquery)").bindparams(tsquery=tsquery))


async def statuses(session: AsyncSession, query: str, *, viewer_id: int, now: datetime,
                   account_id: int | None = None, min_id: int | None = None, max_id: int | None = None,
                   limit: int = 20, offset: int = 0) -> list[Status]:
    """Posts containing every word of the query that the viewer may find, newest first."""
    terms = words(query)
    if not terms:
        return []
    statement = _matching(session, terms).where(Status.reblog_of_id.is_(None), _findable_by(viewer_id, now))
    if account_id is not None:
        statement = statement.where(Status.author_id == account_id)
    if min_id is not None:
        statement = statement.where(Status.id > min_id)
    if max_id is not None:
        statement = statement.where(Status.id < max_id)
    statement = statement.order_by(Status.id.desc()).limit(limit).offset(offset)
    return list((await session.scalars(statement)).all())
