"""The fast path of the commonest activity: a run of plain Creates by known actors, stored in a few statements.

A plain Create is a Note, Article or Page by its own (remote, stored) actor, public, unlisted or for
followers, without attachments, poll or mention of one of our residents. For such posts
`local.remote_statuses.store` reads and writes the same rows every time; doing that for a whole run
at once costs a handful of statements instead of about fifteen per post (bench/inbox.py). Everything
else keeps the per-activity path. tests/unit/inbox/test_fast_create.py applies the same Creates both
ways and compares every row written, so the two cannot drift apart unnoticed.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub import addressing, extract, vocab
from fedserver.activitypub.convert.note import parse_note
from fedserver.activitypub.errors import MalformedObject
from fedserver.activitypub.shapes import Note
from fedserver.db import Base
from fedserver.ids import new_id
from fedserver.inbox import fast_audience
from fedserver.local import actors, html
from fedserver.local.models.actors import Actor
from fedserver.local.models.statuses import DIRECT, Mention, Status, StatusTag, Tag
from fedserver.local.search import STATUS_SEARCH, plain_text

FAST_TYPES = frozenset({vocab.NOTE, vocab.ARTICLE, vocab.PAGE})
_STATUSES: Table = Base.metadata.tables[Status.__tablename__]
_MENTIONS: Table = Base.metadata.tables[Mention.__tablename__]
_TAGS: Table = Base.metadata.tables[Tag.__tablename__]
_STATUS_TAGS: Table = Base.metadata.tables[StatusTag.__tablename__]


@dataclass(frozen=True)
class Post:
    """A plain post ready to store: the parsed Note, its verified author and what it derives."""

    note: Note
    author: Actor
    visibility: str
    tags: tuple[str, ...]  # hashtag names as remote_statuses stores them: lowercased, no '#', unique


def plain_post(activity: dict[str, Any], fetched: dict[str, dict[str, Any]], author: Actor,
               local_origin: str, group_threads: set[str]) -> Post | None:
    """The post of a Create the fast path stores exactly as the handler would; None sends it the per-activity way.
    `group_threads`: posts in a group (see `in_groups`), whose replies the group may relay."""
    if extract.type_of(activity) != vocab.CREATE or author.domain == "":
        return None
    document = fetched.get(extract.id_of(activity.get("object")) or "")
    if document is None or extract.type_of(document) not in FAST_TYPES:
        return None
    addressed = [*_iris(activity, "to", "cc", "audience"), *_iris(document, "to", "cc", "audience")]
    if any(actors.origin_of(iri) == local_origin for iri in addressed):
        return None  # addressed to one of our actors (a group relays it: dispatch.py, local/group_relay.py)
    if isinstance(document.get("name"), str) and not document.get("content"):
        return None  # perhaps a vote on one of our polls (handlers/create.py _vote)
    try:
        note = parse_note(document)
    except MalformedObject:
        return None  # the handler skips it with the reason
    if note.attributed_to != author.ap_id or note.attachments or note.poll is not None:
        return None
    if any(actors.origin_of(mention.href) == local_origin for mention in note.mentions):
        return None  # mentions of our residents notify them: remote_statuses._notify_mentions does that
    if any(actors.origin_of(iri) == local_origin for iri in (*note.to, *note.cc, note.audience or "")):
        return None  # perhaps addressed to one of our groups, which relays it (dispatch -> local.group_relay)
    tags = tuple(dict.fromkeys(tag.name.lstrip("#").lower() for tag in note.tags if tag.name.lstrip("#")))
    if any(len(name) > 255 for name in tags):
        return None  # names cut to the column's length may collide; the per-activity path says so
    if note.in_reply_to in group_threads:
        return None  # a reply in a group's thread is the group's to relay
    visibility = addressing.visibility_of(note.to, note.cc, author.followers_url)
    if visibility == DIRECT:
        return None  # direct posts go to conversations, computed from their mentions
    return Post(note, author, visibility, tags)


def replied_to(activity: dict[str, Any], fetched: dict[str, dict[str, Any]]) -> str | None:
    """The post a Create's object answers, if any."""
    document = fetched.get(extract.id_of(activity.get("object")) or "") or {}
    return extract.id_of(document.get("inReplyTo")) if extract.type_of(activity) == vocab.CREATE else None


async def in_groups(session: AsyncSession, ap_ids: Sequence[str]) -> set[str]:
    """Of these posts, those that belong to a group (their audience is set)."""
    if not ap_ids:
        return set()
    return set((await session.scalars(select(Status.ap_id).where(
        Status.ap_id.in_(list(dict.fromkeys(ap_ids))), Status.audience_id.is_not(None)))).all())


def _iris(document: dict[str, Any], *keys: str) -> list[str]:
    found = (extract.id_of(value) for key in keys for value in extract.as_list(document.get(key)))
    return [iri for iri in found if iri]


def depends_on(post: Post, run: Sequence[Post]) -> bool:
    """Whether the post needs one of the run stored first (a reply to it, or the same object again)."""
    return any(other.note.ap_id in (post.note.ap_id, post.note.in_reply_to) for other in run)


async def store_posts(session: AsyncSession, posts: Sequence[Post], *, now: datetime) -> None:
    """Store the posts as remote_statuses.store would, one by one in this order; known ones stay as they are."""
    known = set((await session.scalars(
        select(Status.ap_id).where(Status.ap_id.in_([post.note.ap_id for post in posts])))).all())
    new = [post for post in posts if post.note.ap_id not in known]
    if not new:
        return
    replied_to = [post.note.in_reply_to for post in new if post.note.in_reply_to]
    parents = {row.ap_id: row for row in (await session.execute(
        select(Status.ap_id, Status.id, Status.thread_ap_id, Status.author_id)
        .where(Status.ap_id.in_(replied_to)))).all()} if replied_to else {}
    rows = [_status_row(post, parents.get(post.note.in_reply_to or ""), now) for post in new]
    await session.execute(insert(_STATUSES), rows)
    await _mentions(session, new, rows)
    await _hashtags(session, new, rows)
    if session.get_bind().dialect.name == "sqlite":  # local.search.index_status; PostgreSQL indexes by itself
        await session.execute(insert(STATUS_SEARCH), [
            {"rowid": row["id"], "body": plain_text(Status(content_html=row["content_html"],
                                                           spoiler_text=row["spoiler_text"], title=row["title"]))}
            for row in rows])
    parent_authors = {row["id"]: parents[post.note.in_reply_to].author_id
                      for post, row in zip(new, rows) if post.note.in_reply_to in parents}
    await fast_audience.announce_created(session, [(post.author.id, post.visibility, post.tags, row["id"])
                                                   for post, row in zip(new, rows)], parent_authors)


def _status_row(post: Post, parent: Any, now: datetime) -> dict[str, Any]:
    """The columns remote_statuses.store gives a new Status (backfill=False)."""
    note = post.note
    return {
        "id": new_id(), "ap_id": note.ap_id, "url": note.url or note.ap_id, "author_id": post.author.id,
        "object_type": note.type, "visibility": post.visibility, "is_local": False,
        "title": note.name[:512] if note.name else None, "content_html": html.clean(note.content_html),
        "source_text": None, "spoiler_text": (note.summary or "")[:1024], "is_sensitive": note.sensitive,
        "language": note.language, "in_reply_to_id": parent.id if parent is not None else None,
        "in_reply_to_ap_id": note.in_reply_to,
        "thread_ap_id": (parent.thread_ap_id if parent is not None else None) or note.conversation
        or note.in_reply_to or note.ap_id,
        "reblog_of_id": None, "audience_id": None, "published_at": note.published, "created_at": now,
        # GoToSocial sends updated == published on new posts: only a later time is an edit.
        "edited_at": note.updated if note.updated and note.updated > note.published else None,
    }


async def _mentions(session: AsyncSession, posts: list[Post], rows: list[dict[str, Any]]) -> None:
    """Mention rows for the mentioned actors we know (remote_statuses._attach)."""
    hrefs = list(dict.fromkeys(mention.href for post in posts for mention in post.note.mentions))
    if not hrefs:
        return
    known = {ap_id: actor_id for ap_id, actor_id in
             (await session.execute(select(Actor.ap_id, Actor.id).where(Actor.ap_id.in_(hrefs)))).all()}
    mentions = [{"status_id": row["id"], "actor_id": actor_id} for post, row in zip(posts, rows)
                for actor_id in dict.fromkeys(known[m.href] for m in post.note.mentions if m.href in known)]
    if mentions:
        await session.execute(insert(_MENTIONS), mentions)


async def _hashtags(session: AsyncSession, posts: list[Post], rows: list[dict[str, Any]]) -> None:
    """Tags looked up once, new ones created in the order first seen, and the status links."""
    names = list(dict.fromkeys(name for post in posts for name in post.tags))
    if not names:
        return
    tag_ids = {name: tag_id for name, tag_id in
               (await session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(names)))).all()}
    created = [name for name in names if name not in tag_ids]
    tag_ids.update((name, new_id()) for name in created)
    if created:
        await session.execute(insert(_TAGS), [{"id": tag_ids[name], "name": name, "display_name": name}
                                              for name in created])
    await session.execute(insert(_STATUS_TAGS), [{"status_id": row["id"], "tag_id": tag_ids[name]}
                                                  for post, row in zip(posts, rows) for name in post.tags])
