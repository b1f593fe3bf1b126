"""Posts as pages show them: each status with its author, the booster, its images and what the viewer has
done to it, loaded for a whole page in a few queries (never one status at a time)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Bookmark, Like
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import Status
from fedserver.local.urls import LocalUrls

LIKED, BOOSTED, BOOKMARKED = "liked", "boosted", "bookmarked"


@dataclass(frozen=True)
class Image:
    url: str
    preview_url: str
    description: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class Post:
    """One entry of a feed: `status` is what is shown (the original, for a boost), `entry_id` pages the feed."""

    entry_id: int
    status: Status
    author: Actor
    boosted_by: Actor | None
    images: list[Image]
    liked: bool
    boosted: bool
    bookmarked: bool
    is_own: bool

    @classmethod
    def plain(cls, status: Status, author: Actor) -> Post:
        """A post as an anonymous visitor sees it, without loading images or interactions."""
        return cls(entry_id=status.id, status=status, author=author, boosted_by=None, images=[], liked=False,
                   boosted=False, bookmarked=False, is_own=False)

    @property
    def page_url(self) -> str:
        """The status page in our own UI, where one can reply, like and boost."""
        return f"/@{handle(self.author)}/{self.status.id}"


def handle(actor: Actor) -> str:
    """user for our own accounts, user@domain for remote ones (as the path of their pages)."""
    return f"{actor.username}@{actor.domain}" if actor.domain else actor.username


async def posts(session: AsyncSession, urls: LocalUrls, entries: Sequence[Status],
                viewer: Actor | None) -> list[Post]:
    """Feed entries (statuses or boosts) turned into Posts, in the same order."""
    return (await posts_with_actors(session, urls, entries, viewer))[0]


async def posts_with_actors(session: AsyncSession, urls: LocalUrls, entries: Sequence[Status], viewer: Actor | None,
                            *, also_actors: Iterable[int] = ()) -> tuple[list[Post], dict[int, Actor]]:
    """Posts as `posts` makes them, and the actors by id, `also_actors` among them (a page that shows other
    people too loads them in the same query)."""
    originals = {status.id: status for status in await _by_ids(
        session, [entry.reblog_of_id for entry in entries if entry.reblog_of_id is not None])}
    shown = {entry.id: originals.get(entry.reblog_of_id, entry) if entry.reblog_of_id else entry
             for entry in entries}
    actor_ids = ({entry.author_id for entry in entries} | {status.author_id for status in shown.values()}
                 | set(also_actors))
    actors = {actor.id: actor for actor in (await session.scalars(
        select(Actor).where(Actor.id.in_(actor_ids)))).all()} if actor_ids else {}
    shown_ids = [status.id for status in shown.values()]
    images = await _images(session, urls, shown_ids)
    liked, boosted, bookmarked = await _done_by(session, viewer, shown_ids)
    result = []
    for entry in entries:
        status = shown[entry.id]
        if status.author_id not in actors:
            continue
        result.append(Post(
            entry_id=entry.id, status=status, author=actors[status.author_id],
            boosted_by=actors.get(entry.author_id) if entry.reblog_of_id else None,
            images=images.get(status.id, []), liked=status.id in liked, boosted=status.id in boosted,
            bookmarked=status.id in bookmarked, is_own=viewer is not None and status.author_id == viewer.id))
    return result, actors


async def _by_ids(session: AsyncSession, ids: list[int]) -> list[Status]:
    if not ids:
        return []
    return list((await session.scalars(select(Status).where(Status.id.in_(ids)))).all())


async def _images(session: AsyncSession, urls: LocalUrls, status_ids: list[int]) -> dict[int, list[Image]]:
    found: dict[int, list[Image]] = {}
    if not status_ids:
        return found
    query = (select(MediaAttachment).where(MediaAttachment.status_id.in_(status_ids), MediaAttachment.kind == "image")
             .order_by(MediaAttachment.position))
    for item in (await session.scalars(query)).all():
        url = urls.media(item.file_path) if item.file_path else item.remote_url
        if url is None or item.status_id is None:
            continue
        preview = urls.media(item.preview_path) if item.preview_path else url
        found.setdefault(item.status_id, []).append(Image(url, preview, item.description, item.width, item.height))
    return found


async def _done_by(session: AsyncSession, viewer: Actor | None,
                   status_ids: list[int]) -> tuple[set[int], set[int], set[int]]:
    """Which of these statuses the viewer has liked, boosted and bookmarked, in one query (each query is a
    round trip to the database thread)."""
    if viewer is None or not status_ids:
        return set(), set(), set()
    query: CompoundSelect[Any] = union_all(
        select(literal(LIKED).label("kind"), Like.status_id.label("status_id"))
        .where(Like.actor_id == viewer.id, Like.status_id.in_(status_ids)),
        select(literal(BOOSTED), Status.reblog_of_id)
        .where(Status.author_id == viewer.id, Status.reblog_of_id.in_(status_ids)),
        select(literal(BOOKMARKED), Bookmark.status_id)
        .where(Bookmark.actor_id == viewer.id, Bookmark.status_id.in_(status_ids)))
    done: dict[str, set[int]] = {LIKED: set(), BOOSTED: set(), BOOKMARKED: set()}
    for kind, status_id in (await session.execute(query)).all():
        done[kind].add(status_id)
    return done[LIKED], done[BOOSTED], done[BOOKMARKED]
