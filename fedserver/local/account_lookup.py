"""Finding accounts to show: by id, by handle, by the start of a name.

The one rule of who may be shown lives here: remote actors we know, and local accounts that are
approved and not suspended. The instance actor and the tombstones of deleted accounts
(account_deletion.TOMBSTONE) have no account row, so they are never shown.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import mutes
from fedserver.local.errors import NotFound
from fedserver.local.models.accounts import Account
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import ACCEPTED, PENDING, Block, DomainBlock, Follow, Mute
from fedserver.local.timelines import Paging, newest_first, paged
from fedserver.local.urls import LocalUrls


def shown() -> ColumnElement[bool]:
    """A SQL condition on Actor: remote actors, and local ones with an approved, unsuspended account."""
    usable = exists().where(Account.actor_id == Actor.id, Account.is_approved.is_(True),
                            Account.is_suspended.is_(False))
    return or_(Actor.domain != "", usable)


async def find_shown(session: AsyncSession, actor_id: int) -> Actor:
    """The actor with this id if it may be shown; raises NotFound."""
    actor = (await session.scalars(select(Actor).where(Actor.id == actor_id, shown()))).first()
    if actor is None:
        raise NotFound("Record not found")
    return actor


async def shown_by_ids(session: AsyncSession, actor_ids: list[int]) -> dict[int, Actor]:
    """The actors among these ids that may be shown, by id (unknown ones are left out)."""
    if not actor_ids:
        return {}
    rows = (await session.scalars(select(Actor).where(Actor.id.in_(actor_ids), shown()))).all()
    return {actor.id: actor for actor in rows}


def split_handle(urls: LocalUrls, handle: str) -> tuple[str, str]:
    """(username, domain) of `user`, `@user`, `user@host` or `@user@host`; domain '' for ours."""
    user, _, host = handle.strip().lstrip("@").partition("@")
    host = host.lower()
    return user, "" if host in ("", urls.domain.lower()) else host


async def find_by_handle(session: AsyncSession, urls: LocalUrls, handle: str) -> Actor:
    """A known actor by its handle, without asking the network; raises NotFound."""
    user, domain = split_handle(urls, handle)
    if not user:
        raise NotFound("Record not found")
    query = (select(Actor).where(Actor.username_key == user.lower(), Actor.domain == domain, shown())
             .order_by(Actor.id).limit(1))
    actor = (await session.scalars(query)).first()
    if actor is None:
        raise NotFound("Record not found")
    return actor


async def search(session: AsyncSession, urls: LocalUrls, text: str, *, limit: int, offset: int = 0,
                 following_of: int | None = None) -> list[Actor]:
    """Accounts whose username or display name starts with the text (or that match a full handle).

    No ranking (DESIGN.md): an exact handle first, then alphabetically by username and domain.
    following_of: only accounts that this actor follows.
    """
    user, domain = split_handle(urls, text)
    if not user.strip():
        return []
    prefix = _like_prefix(user.lower())
    if "@" in text.strip().lstrip("@"):  # a full handle: that server only
        matches = and_(Actor.domain == domain, Actor.username_key.like(prefix, escape="\\"))
    else:
        matches = or_(Actor.username_key.like(prefix, escape="\\"),
                      Actor.display_name.ilike(_like_prefix(text.strip()), escape="\\"))
    query = select(Actor).where(matches, shown())
    if following_of is not None:
        query = query.where(exists().where(Follow.follower_id == following_of, Follow.target_id == Actor.id,
                                           Follow.state == ACCEPTED))
    exact = (Actor.username_key == user.lower()) & (Actor.domain == domain)
    query = query.order_by(exact.desc(), Actor.username_key, Actor.domain).offset(offset).limit(limit)
    return list((await session.scalars(query)).all())


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


# --- lists of accounts, paged by the id of the row that links them (as Mastodon pages them) ------------------

async def followers(session: AsyncSession, actor_id: int, page: Paging) -> list[tuple[int, Actor]]:
    """(follow id, follower) of accepted follows of the actor, newest follow first."""
    return await _linked(session, select(Follow.id, Actor).join(Actor, Actor.id == Follow.follower_id)
                         .where(Follow.target_id == actor_id, Follow.state == ACCEPTED), Follow.id, page)


async def following(session: AsyncSession, actor_id: int, page: Paging) -> list[tuple[int, Actor]]:
    """(follow id, followed) of the actor's accepted follows, newest follow first."""
    return await _linked(session, select(Follow.id, Actor).join(Actor, Actor.id == Follow.target_id)
                         .where(Follow.follower_id == actor_id, Follow.state == ACCEPTED), Follow.id, page)


async def follow_requests(session: AsyncSession, actor_id: int, page: Paging) -> list[tuple[int, Actor]]:
    """(follow id, requester) of follow requests waiting for the actor's answer."""
    return await _linked(session, select(Follow.id, Actor).join(Actor, Actor.id == Follow.follower_id)
                         .where(Follow.target_id == actor_id, Follow.state == PENDING), Follow.id, page)


async def blocked(session: AsyncSession, actor_id: int, page: Paging) -> list[tuple[int, Actor]]:
    """(block id, blocked actor) of the actor's blocks."""
    return await _linked(session, select(Block.id, Actor).join(Actor, Actor.id == Block.target_id)
                         .where(Block.actor_id == actor_id), Block.id, page)


async def muted(session: AsyncSession, actor_id: int, page: Paging, *, now: datetime) -> list[tuple[Mute, Actor]]:
    """(mute, muted actor) of the actor's mutes that have not run out."""
    query: Any = (select(Mute, Actor).join(Actor, Actor.id == Mute.target_id)
                  .where(Mute.actor_id == actor_id, mutes.active(now), shown()))
    rows: Any = (await session.execute(paged(query, Mute.id, page))).all()
    return newest_first([(row[0], row[1]) for row in rows], page)


async def blocked_domains(session: AsyncSession, actor_id: int, page: Paging) -> list[tuple[int, str]]:
    """(domain block id, domain) of the servers the actor hides."""
    query: Any = select(DomainBlock.id, DomainBlock.domain).where(DomainBlock.actor_id == actor_id)
    rows: Any = (await session.execute(paged(query, DomainBlock.id, page))).all()
    return newest_first([(row[0], row[1]) for row in rows], page)


async def _linked(session: AsyncSession, query: Any, link_id: Any, page: Paging) -> list[tuple[int, Actor]]:
    rows: Any = (await session.execute(paged(query.where(shown()), link_id, page))).all()
    return newest_first([(row[0], row[1]) for row in rows], page)
