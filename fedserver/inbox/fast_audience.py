"""Stream events for a run of new remote posts (fast_create), with the audience local.streams gives one post.

`streams.on_status_created` finds the audience of one status in four queries; for a run of posts
the same facts (local followers of each author and of each replied-to author, lists holding each
author) come from two, and all events go out in one INSERT. Only what fast_create stores is covered:
no boosts, no direct posts, no media (tests/unit/inbox/test_fast_create.py compares both ways).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.db import Base, utcnow
from fedserver.ids import new_id
from fedserver.local import streams
from fedserver.local.models.accounts import Account
from fedserver.local.models.actors import Actor
from fedserver.local.models.clients import List, ListMember
from fedserver.local.models.interactions import ACCEPTED, Follow
from fedserver.local.models.statuses import PUBLIC
from fedserver.local.models.streams import StreamEvent

_EVENTS: Table = Base.metadata.tables[StreamEvent.__tablename__]

# (author actor id, visibility, hashtag names, status id) of each new post, in the order stored.
Created = tuple[int, str, Sequence[str], int]


async def announce_created(session: AsyncSession, created: Sequence[Created], parent_authors: dict[int, int]) -> None:
    """`update` events to every timeline stream of each post, as streams.on_status_created writes them."""
    authors = {author for author, _visibility, _tags, _status in created}
    followers = await _local_followers(session, authors | set(parent_authors.values()))
    lists = await _lists_holding(session, authors)
    now = utcnow()
    events = [{"id": new_id(), "stream": stream, "event": streams.UPDATE, "object_id": status_id, "payload": "",
               "created_at": now}
              for author, visibility, tags, status_id in created
              for stream in _streams(author, visibility, tags, parent_authors.get(status_id), followers, lists)]
    if events:
        await session.execute(insert(_EVENTS), events)


def _streams(author: int, visibility: str, tags: Sequence[str], parent_author: int | None,
             followers: dict[int, list[int]], lists: dict[int, list[int]]) -> list[str]:
    """streams.audience for a remote author's new, non-direct post without media."""
    names = ["public", "public:remote", *(streams.hashtag(tag) for tag in tags)] if visibility == PUBLIC else []
    readers: Iterable[int] = followers.get(author, [])
    if parent_author is not None and parent_author != author:
        # Replies reach only readers who also follow the one replied to (streams._home_readers).
        also = set(followers.get(parent_author, []))
        readers = [reader for reader in readers if reader == parent_author or reader in also]
    names += [streams.user(reader) for reader in readers]
    names += [streams.of_list(list_id) for list_id in lists.get(author, [])]
    return list(dict.fromkeys(names))


async def _local_followers(session: AsyncSession, targets: set[int]) -> dict[int, list[int]]:
    """Our residents with an accepted follow of each target."""
    rows = (await session.execute(
        select(Follow.target_id, Follow.follower_id).join(Actor, Actor.id == Follow.follower_id)
        .where(Follow.target_id.in_(targets), Follow.state == ACCEPTED, Actor.domain == ""))).all()
    return _grouped((key, value) for key, value in rows)


async def _lists_holding(session: AsyncSession, authors: set[int]) -> dict[int, list[int]]:
    """Lists that hold each author, of owners who follow the author (streams._lists_with)."""
    rows = (await session.execute(
        select(ListMember.actor_id, List.id).join(List, ListMember.list_id == List.id)
        .join(Account, Account.id == List.account_id)
        .join(Follow, (Follow.follower_id == Account.actor_id) & (Follow.target_id == ListMember.actor_id))
        .where(ListMember.actor_id.in_(authors), Follow.state == ACCEPTED))).all()
    return _grouped((key, value) for key, value in rows)


def _grouped(rows: Iterable[tuple[int, int]]) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = defaultdict(list)
    for key, value in rows:
        grouped[key].append(value)
    return grouped
