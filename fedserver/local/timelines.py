"""Timelines: strictly chronological lists of statuses, newest first, paged by id. No ranking.

Every timeline is one query: the page's rows are chosen in SQL (visibility, blocks, mutes, domain blocks,
the reply and boost rules) so that paging by id stays exact and nothing is loaded one status at a time.
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import BigInteger, ColumnElement, CompoundSelect, Select, and_, bindparam, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fedserver.compiled_read import compiled
from fedserver.db import UTCDateTime
from fedserver.ids import lowest_id_at
from fedserver.local.models.actors import Actor
from fedserver.local.models.clients import List, ListMember
from fedserver.local.models.interactions import ACCEPTED, Bookmark, DomainBlock, Follow, Like, Mute
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import PUBLIC, Status, StatusTag, Tag
from fedserver.local.visibility import visible_to

Row = tuple[Status, Actor]
# A status of a followed-authors page and the original it boosts (or None): ORM Status objects for the web UI
# (`home`), rows of the columns a page is shown from (StatusRow) for the API (`home_entries`, `list_timeline`).
Entry = tuple[Any, Any]
Viewer = Any  # an actor id, or the bound parameter a cached statement takes it as

# Any SELECT, whatever its columns (SQLAlchemy 2.1 types a Select by its column types).
AnySelect = Select[*tuple[Any, ...]]


class Paging(Protocol):
    """A page as Mastodon asks for it: max_id (older than), since_id (newer than), min_id (just newer than)."""

    @property
    def max_id(self) -> int | None: ...
    @property
    def since_id(self) -> int | None: ...
    @property
    def min_id(self) -> int | None: ...
    @property
    def limit(self) -> int: ...


def paged(query: AnySelect, column: Any, page: Paging) -> AnySelect:
    """Apply Mastodon's paging: min_id reads upwards from just above it, everything else downwards."""
    if page.max_id is not None:
        query = query.where(column < page.max_id)
    if page.min_id is not None:
        return query.where(column > page.min_id).order_by(column.asc()).limit(page.limit)
    if page.since_id is not None:
        query = query.where(column > page.since_id)
    return query.order_by(column.desc()).limit(page.limit)


def newest_first(rows: list[Any], page: Paging) -> list[Any]:
    """Rows read upwards for min_id are turned round: every page lists the newest first."""
    return rows[::-1] if page.min_id is not None else rows


async def _statuses(session: AsyncSession, query: AnySelect, page: Paging) -> list[Status]:
    return newest_first(list((await session.scalars(paged(query, Status.id, page))).all()), page)


# Time windows a followed-authors timeline reads first, widening until the page is full. Ids are times
# (DESIGN.md), so a window is an id range: with the (author_id, id) index each followed author costs one
# seek and only the rows inside the window are checked, however long the authors' histories are.
WINDOWS = (timedelta(hours=1), timedelta(days=1), timedelta(days=16), timedelta(days=256), None)

# The home and list statements are built once per shape with bound parameters and reused: SQLAlchemy then
# skips re-walking a large statement on every request (its cache key is memoised on the statement object).
VIEWER: Any = bindparam("viewer_id", type_=BigInteger)
ACCOUNT = bindparam("account_id", type_=BigInteger)
LIST_ID = bindparam("list_id", type_=BigInteger)
NOW = bindparam("now", type_=UTCDateTime)


# The first query of a page going down looks at this many of the authors' newest statuses per status asked
# for: the feed's rules (replies to strangers, hidden boosts) drop some of them.
CANDIDATES = 2


@lru_cache(maxsize=64)
def _statement(kind: str, max_id: bool, since_id: bool, min_id: bool, edge: bool, nth: bool = False,
               as_rows: bool = False) -> Select[Any]:
    """The home ("home") or a list's ("list:<replies_policy>") page query for one combination of bounds;
    `nth`: the lower edge is the id of the authors' nth newest status (_nth_newest), found in SQL;
    `as_rows`: plain columns instead of ORM entities (_entries)."""
    boosted = _with_boosted_rows() if as_rows else _with_boosted()
    authors = _authors(kind)
    query = _home_query(boosted, authors) if kind == "home" else _list_query(kind.removeprefix("list:"), boosted, authors)
    if max_id:
        query = query.where(Status.id < bindparam("max_id"))
    if min_id:
        if edge:
            query = query.where(Status.id < bindparam("edge"))
        return query.where(Status.id > bindparam("min_id")).order_by(Status.id.asc()).limit(bindparam("limit"))
    if edge:
        query = query.where(Status.id > bindparam("edge"))
    if nth:  # the edge comes back too, to tell a complete short page from one the rules thinned out
        # Computed once (MATERIALIZED): written as a subquery in both places, SQLite ran it twice (1.4 -> 0.9 ms).
        lowest = select(_nth_newest(authors).label("edge")).cte("edge").prefix_with("MATERIALIZED")
        query = query.add_columns(lowest.c.edge).where(Status.id > lowest.c.edge)
    if since_id:
        query = query.where(Status.id > bindparam("since_id"))
    return query.order_by(Status.id.desc()).limit(bindparam("limit"))


def _authors(kind: str) -> AnySelect:
    """Whose statuses a home or list page shows, computed once per statement (MATERIALIZED): the list is read
    by the page query and by each of _nth_newest's windows, and SQLite computed it for each (0.95 -> 0.78 ms)."""
    found = (_home_authors() if kind == "home" else _list_authors()).cte("authors").prefix_with("MATERIALIZED")
    return select(*found.c)


def _nth_newest(authors: AnySelect) -> ColumnElement[int]:
    """The id of the authors' nth newest status below `top`, looked for in the narrowest window that holds n
    (0 when none does). Only the (author_id, id) index is read: far cheaper than applying the feed's rules to
    every status of a window, and it saves the round trip of trying a window that turns out too narrow."""
    found = [select(Status.id).where(Status.author_id.in_(authors), Status.id < bindparam("top"),
                                     Status.id > bindparam(f"window_{n}"))
             .order_by(Status.id.desc()).limit(1).offset(bindparam("skip")).scalar_subquery()
             for n in range(len(WINDOWS) - 1)]
    # Read from a CTE of its own (_statement), SQLite computes it once; a bare coalesce() of subqueries in the
    # outer WHERE was evaluated again for every followed author's index seek (3.5 ms against 1.4 ms).
    return func.coalesce(*found, 0)


async def _windowed(session: AsyncSession, kind: str, page: Paging, now: datetime,
                    params: dict[str, Any], as_rows: bool = False) -> list[Entry]:
    """A page of a followed-authors timeline, read through widening id windows next to where it starts."""
    upward = page.min_id is not None
    ceiling = lowest_id_at(now + timedelta(minutes=5))  # a little past now: remote clocks drift
    start = page.min_id if page.min_id is not None else page.max_id if page.max_id is not None else ceiling
    values = {"limit": page.limit, "max_id": page.max_id, "since_id": page.since_id, "min_id": page.min_id,
              "now": now, **params}
    lowest = None
    # A poll for what is new since a recent status (since_id inside the first window) is one query as it is.
    recent = page.since_id is not None and page.since_id >= start - (lowest_id_at(now) - lowest_id_at(now - WINDOWS[0]))
    if not upward and not recent:
        rows, lowest = await _first_down(session, kind, page, start, now, values, as_rows)
        read_all = lowest is not None and (lowest == 0 or (page.since_id is not None and lowest <= page.since_id))
        if len(rows) >= page.limit or read_all:
            return rows
    for window in WINDOWS:
        edge = None
        if window is not None:
            span = lowest_id_at(now) - lowest_id_at(now - window)
            edge = start + span if upward else start - span
            if lowest is not None and edge >= lowest:  # no wider than what the first query read
                continue
        statement = _statement(kind, page.max_id is not None, page.since_id is not None, upward, edge is not None,
                               as_rows=as_rows)
        rows = _entries(await _rows(session, statement, {
            key: value for key, value in {**values, "edge": edge}.items() if value is not None}, as_rows), as_rows)
        covered = edge is None or (edge >= ceiling if upward else page.since_id is not None and edge <= page.since_id)
        if len(rows) >= page.limit or covered:
            return newest_first(rows, page)
    return []


async def _first_down(session: AsyncSession, kind: str, page: Paging, start: int, now: datetime,
                      values: dict[str, Any], as_rows: bool) -> tuple[list[Entry], int | None]:
    """The page in one query that reads only the authors' newest statuses below `start` (_nth_newest), and
    the id it read down to (0: all of them); fewer rows than asked for when the feed's rules dropped many."""
    windows = {f"window_{n}": start - (lowest_id_at(now) - lowest_id_at(now - window))
               for n, window in enumerate(WINDOWS[:-1]) if window is not None}
    statement = _statement(kind, page.max_id is not None, page.since_id is not None, False, False, nth=True,
                           as_rows=as_rows)
    bound = {**values, **windows, "top": start, "skip": int(page.limit * CANDIDATES) - 1}
    rows = await _rows(session, statement, {key: value for key, value in bound.items() if value is not None}, as_rows)
    return _entries(rows, as_rows), (rows[0][-1] if rows else None)


async def _rows(session: AsyncSession, statement: AnySelect, params: dict[str, Any], as_rows: bool) -> Sequence[Any]:
    """A page statement's rows: plain columns skip SQLAlchemy's execute pipeline (compiled_read)."""
    if as_rows:
        return await compiled(statement).rows(session, params)
    return (await session.execute(statement, params)).all()


# --- the rules every signed-in timeline shares -------------------------------------------------------------

def unmuted(viewer_id: Viewer, author: Any, now: Any) -> ColumnElement[bool]:
    """The author is not muted by the viewer (expired mutes no longer count)."""
    return ~select(Mute.id).where(Mute.actor_id == viewer_id, Mute.target_id == author,
                                  or_(Mute.expires_at.is_(None), Mute.expires_at > now)).exists()


def domain_allowed(viewer_id: Viewer | None, author: Any) -> ColumnElement[bool]:
    """The author's server is blocked neither by the viewer nor (for public timelines, viewer None) the city."""
    blocker = DomainBlock.actor_id.is_(None) if viewer_id is None else DomainBlock.actor_id == viewer_id
    # One level deep on purpose: a subquery nested in another would not correlate with the outer row.
    return ~(select(DomainBlock.id).join(Actor, Actor.domain == DomainBlock.domain)
             .where(blocker, Actor.id == author).exists())


def _original_allowed(viewer_id: Viewer, now: Any) -> ColumnElement[bool]:
    """A boost shows only when its original is visible to the viewer and its author not silenced."""
    original = aliased(Status)
    allowed = select(original.id).where(
        original.id == Status.reblog_of_id, visible_to(viewer_id, original),
        unmuted(viewer_id, original.author_id, now), domain_allowed(viewer_id, original.author_id))
    return or_(Status.reblog_of_id.is_(None), allowed.exists())


def _reblogs_shown(viewer_id: Viewer) -> ColumnElement[bool]:
    """Boosts by someone followed with reblogs=false stay out (Mastodon's show_reblogs)."""
    hidden = select(Follow.id).where(Follow.follower_id == viewer_id, Follow.target_id == Status.author_id,
                                     Follow.show_reblogs.is_(False))
    return or_(Status.reblog_of_id.is_(None), ~hidden.exists())


def _parent_author() -> Any:
    parent = aliased(Status)
    return select(parent.author_id).where(parent.id == Status.in_reply_to_id).scalar_subquery()


def _parent_followed(viewer_id: Viewer) -> ColumnElement[bool]:
    """The viewer follows the author of the post this one replies to."""
    parent = aliased(Status)
    return (select(Follow.id).join(parent, parent.author_id == Follow.target_id)
            .where(parent.id == Status.in_reply_to_id, Follow.follower_id == viewer_id,
                   Follow.state == ACCEPTED).exists())


def _reply_allowed(viewer_id: Viewer, also: ColumnElement[bool]) -> ColumnElement[bool]:
    """Mastodon's feed rule: a reply shows when it answers the viewer, the author themself, or `also`;
    a reply to a post we do not hold is left out."""
    parent_author = _parent_author()
    return or_(Status.in_reply_to_ap_id.is_(None), parent_author == viewer_id,
               parent_author == Status.author_id, also)


def _with_boosted() -> AnySelect:
    """Statuses with the original each boost points at, read in the same query: rendering the page then
    needs no query of its own for them (entities/status.py)."""
    boosted = aliased(Status, name="boosted")
    return select(Status, boosted).outerjoin(boosted, boosted.id == Status.reblog_of_id)


# The same as plain rows: the API renders from columns, and building ORM objects (identity map, instance
# state) for a page of statuses and their originals cost 0.1-0.5 ms a page (bench/home_timeline.py). Only the
# columns a page is shown from (Status entities, filters, polls): the others (the source text, thread and
# audience ids ...) would be read and converted for nothing.
_STATUSES = Status.__table__
PAGE_COLUMNS = ("id", "ap_id", "url", "author_id", "object_type", "visibility", "content_html", "spoiler_text",
                "is_sensitive", "language", "in_reply_to_id", "reblog_of_id", "published_at", "edited_at")
_COLUMNS = len(PAGE_COLUMNS)
StatusRow = namedtuple("StatusRow", PAGE_COLUMNS)  # type: ignore[misc]


def _with_boosted_rows() -> AnySelect:
    boosted = _STATUSES.alias("boosted")
    return (select(*(_STATUSES.c[name] for name in PAGE_COLUMNS), *(boosted.c[name] for name in PAGE_COLUMNS))
            .select_from(_STATUSES.outerjoin(boosted, boosted.c.id == _STATUSES.c.reblog_of_id)))


def _entries(rows: Sequence[Any], as_rows: bool) -> list[Entry]:
    """(status, boosted original or None) from a page query's rows, ORM entities or plain columns."""
    if not as_rows:
        return [(row[0], row[1]) for row in rows]
    make = StatusRow._make
    return [(make(row[:_COLUMNS]), make(row[_COLUMNS:2 * _COLUMNS]) if row[_COLUMNS] is not None else None)
            for row in rows]


def _followed_authors(viewer_id: Viewer) -> Select[Any]:
    return select(Follow.target_id).where(Follow.follower_id == viewer_id, Follow.state == ACCEPTED)


# --- the timelines -----------------------------------------------------------------------------------------

def _home_authors() -> CompoundSelect[Any]:
    """Whose posts the home feed shows: the viewer, and the followed accounts the viewer has not muted, whose
    server the viewer has not blocked, and who are not in one of the viewer's exclusive lists. Decided once
    per query for all authors, not once per status."""
    muted = select(Mute.target_id).where(Mute.actor_id == VIEWER, or_(Mute.expires_at.is_(None), Mute.expires_at > NOW))
    blocked_servers = (select(Actor.id).join(DomainBlock, DomainBlock.domain == Actor.domain)
                       .where(DomainBlock.actor_id == VIEWER))
    exclusive = (select(ListMember.actor_id).join(List, List.id == ListMember.list_id)
                 .where(List.account_id == ACCOUNT, List.is_exclusive.is_(True)))
    shown = _followed_authors(VIEWER).where(Follow.target_id.not_in(muted), Follow.target_id.not_in(blocked_servers),
                                            Follow.target_id.not_in(exclusive))
    return shown.union_all(select(VIEWER))


def _home_query(base: AnySelect, authors: AnySelect) -> Select[Any]:
    # Mastodon's reply rule (_reply_allowed) with the followed authors as one list rather than a lookup per reply.
    parent_author = _parent_author()
    reply_allowed = or_(Status.in_reply_to_ap_id.is_(None), parent_author == Status.author_id,
                        parent_author.in_(_followed_authors(VIEWER).union_all(select(VIEWER))))
    no_boosts_from = select(Follow.target_id).where(Follow.follower_id == VIEWER, Follow.show_reblogs.is_(False))
    others = and_(reply_allowed, or_(Status.reblog_of_id.is_(None), Status.author_id.not_in(no_boosts_from)))
    return base.where(Status.author_id.in_(authors), visible_to(VIEWER), _original_allowed(VIEWER, NOW),
                      or_(Status.author_id == VIEWER, others))


async def home(session: AsyncSession, viewer: Actor, account_id: int, page: Paging, *, now: datetime) -> list[Status]:
    """The viewer's own posts and boosts, and those of everyone they follow, as Mastodon's home feed filters them."""
    entries = await _windowed(session, "home", page, now, {"viewer_id": viewer.id, "account_id": account_id})
    return [status for status, _boosted in entries]


async def home_entries(session: AsyncSession, viewer: Actor, account_id: int, page: Paging, *,
                       now: datetime) -> list[Entry]:
    """The home page's statuses (as `home`) as rows of the columns they are shown from (StatusRow), each with
    the original it boosts."""
    return await _windowed(session, "home", page, now, {"viewer_id": viewer.id, "account_id": account_id},
                           as_rows=True)


def _list_authors() -> AnySelect:
    followed = _followed_authors(VIEWER).union_all(select(VIEWER))
    return select(ListMember.actor_id).where(ListMember.list_id == LIST_ID, ListMember.actor_id.in_(followed))


def _list_query(replies_policy: str, base: AnySelect, members: AnySelect) -> Select[Any]:
    also: ColumnElement[bool] = {
        "followed": _parent_followed(VIEWER),
        "list": _parent_author().in_(select(ListMember.actor_id).where(ListMember.list_id == LIST_ID)),
    }.get(replies_policy, false())
    return base.where(
        Status.author_id.in_(members), visible_to(VIEWER), _original_allowed(VIEWER, NOW),
        or_(Status.author_id == VIEWER, and_(
            unmuted(VIEWER, Status.author_id, NOW), domain_allowed(VIEWER, Status.author_id),
            _reply_allowed(VIEWER, also), _reblogs_shown(VIEWER))))


async def list_timeline(session: AsyncSession, viewer: Actor, owned: List, page: Paging, *,
                        now: datetime) -> list[Entry]:
    """Posts and boosts by the list's members the viewer follows (rows of the columns they are shown from,
    StatusRow), each with the original it boosts; replies as the list's replies_policy says."""
    policy = owned.replies_policy if owned.replies_policy in ("followed", "list") else "none"
    return await _windowed(session, f"list:{policy}", page, now, {"viewer_id": viewer.id, "list_id": owned.id},
                           as_rows=True)


def _public_conditions(viewer: Actor | None, *, local: bool, remote: bool, only_media: bool,
                       now: datetime) -> list[ColumnElement[bool]]:
    conditions = [Status.visibility == PUBLIC, Status.reblog_of_id.is_(None), domain_allowed(None, Status.author_id)]
    if local:
        conditions.append(Status.is_local.is_(True))
    elif remote:
        conditions.append(Status.is_local.is_(False))
    if only_media:
        conditions.append(select(MediaAttachment.id).where(MediaAttachment.status_id == Status.id).exists())
    if viewer is not None:
        conditions += [visible_to(viewer.id), unmuted(viewer.id, Status.author_id, now),
                       domain_allowed(viewer.id, Status.author_id)]
    return conditions


async def public(session: AsyncSession, viewer: Actor | None, page: Paging, *, local: bool = False,
                 remote: bool = False, only_media: bool = False, now: datetime) -> list[Status]:
    """Public posts (no boosts; replies only within the author's own thread), as Mastodon's public feed."""
    conditions = _public_conditions(viewer, local=local, remote=remote, only_media=only_media, now=now)
    thread_or_post = or_(Status.in_reply_to_ap_id.is_(None), _parent_author() == Status.author_id)
    return await _statuses(session, select(Status).where(*conditions, thread_or_post), page)


async def tag(session: AsyncSession, viewer: Actor | None, page: Paging, names: list[str], *,
              every: Sequence[str] = (), none: Sequence[str] = (), local: bool = False, remote: bool = False,
              only_media: bool = False, now: datetime) -> list[Status]:
    """Public posts carrying any of `names`, all of `every` and none of `none` (Mastodon's any/all/none)."""
    wanted = {name.lower() for name in [*names, *every, *none]}
    ids = dict((await session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(wanted)))).all())
    any_ids = [ids[name.lower()] for name in names if name.lower() in ids]
    if not any_ids or any(name.lower() not in ids for name in every):
        return []
    conditions = _public_conditions(viewer, local=local, remote=remote, only_media=only_media, now=now)
    conditions.append(Status.id.in_(select(StatusTag.status_id).where(StatusTag.tag_id.in_(any_ids))))
    for name in every:
        conditions.append(select(StatusTag.tag_id).where(StatusTag.status_id == Status.id,
                                                         StatusTag.tag_id == ids[name.lower()]).exists())
    excluded = [ids[name.lower()] for name in none if name.lower() in ids]
    if excluded:
        conditions.append(~select(StatusTag.tag_id).where(StatusTag.status_id == Status.id,
                                                          StatusTag.tag_id.in_(excluded)).exists())
    return await _statuses(session, select(Status).where(*conditions), page)


async def bookmarked(session: AsyncSession, viewer: Actor, page: Paging) -> list[tuple[int, Status]]:
    """The viewer's bookmarks still visible to them, newest bookmark first, paged by the bookmark's id."""
    query = (select(Bookmark.id, Status).join(Status, Status.id == Bookmark.status_id)
             .where(Bookmark.actor_id == viewer.id, visible_to(viewer.id)))
    rows = (await session.execute(paged(query, Bookmark.id, page))).all()
    return newest_first([(row[0], row[1]) for row in rows], page)


async def favourited(session: AsyncSession, viewer: Actor, page: Paging) -> list[tuple[int, Status]]:
    """The statuses the viewer liked and may still see, newest like first, paged by the like's id."""
    query = (select(Like.id, Status).join(Status, Status.id == Like.status_id)
             .where(Like.actor_id == viewer.id, visible_to(viewer.id)))
    rows = (await session.execute(paged(query, Like.id, page))).all()
    return newest_first([(row[0], row[1]) for row in rows], page)


# --- the web UI's public pages -----------------------------------------------------------------------------

def _page(query: Select[Status, Actor], max_id: int | None, limit: int) -> Select[Status, Actor]:
    if max_id is not None:
        query = query.where(Status.id < max_id)
    return query.order_by(Status.id.desc()).limit(limit)


def _public_posts() -> Select[Status, Actor]:
    return (select(Status, Actor).join(Actor, Actor.id == Status.author_id)
            .where(Status.visibility == PUBLIC, Status.reblog_of_id.is_(None)))


async def local_public(session: AsyncSession, *, max_id: int | None = None, limit: int = 20) -> list[Row]:
    """Public posts of this city's accounts (the landing page and the local timeline)."""
    query = _page(_public_posts().where(Status.is_local.is_(True)), max_id, limit)
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def by_author_public(session: AsyncSession, author_id: int, *, max_id: int | None = None,
                           limit: int = 20) -> list[Row]:
    """An actor's public posts, as a profile page shows them to anyone."""
    query = _page(_public_posts().where(Status.author_id == author_id), max_id, limit)
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def tagged_public(session: AsyncSession, tag: str, *, max_id: int | None = None, limit: int = 20) -> list[Row]:
    """Public posts carrying a hashtag (case-insensitive)."""
    query = (_public_posts().join(StatusTag, StatusTag.status_id == Status.id)
             .join(Tag, Tag.id == StatusTag.tag_id).where(Tag.name == tag.lower()))
    return [(row[0], row[1]) for row in (await session.execute(_page(query, max_id, limit))).all()]
