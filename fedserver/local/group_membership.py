"""Membership of a group hosted here: members (accepted followers), join requests, bans.

Joining is following the Group actor (FEP-1b12), so follows.py carries the Follow, the Accept and the
approval of requests; group_admission says who may join at all.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import follows, groups
from fedserver.local.errors import Invalid, NotAllowed, NotFound
from fedserver.local.models.actors import Actor
from fedserver.local.models.groups import GroupBan
from fedserver.local.models.interactions import ACCEPTED, PENDING, Follow
from fedserver.local.urls import LocalUrls

MAX_REASON = 1024


async def members(session: AsyncSession, group: Actor, *, max_id: int | None, limit: int) -> list[tuple[int, Actor]]:
    """(follow id, member) of the group's members, newest first, paged by the follow's id."""
    return await _followers(session, group, ACCEPTED, max_id, limit)


async def requests(session: AsyncSession, group: Actor, *, max_id: int | None, limit: int) -> list[tuple[int, Actor]]:
    """(follow id, asker) of the join requests waiting for an admin or moderator."""
    return await _followers(session, group, PENDING, max_id, limit)


async def decide(session: AsyncSession, urls: LocalUrls, group: Actor, moderator: Actor, asker: Actor, *,
                 accept: bool, now: datetime) -> None:
    """A moderator lets someone in, or turns them away (Accept or Reject of their Follow)."""
    await groups.require_moderator(session, group, moderator)
    follow = await follows.find(session, asker.id, group.id)
    if follow is None or follow.state != PENDING:
        raise NotFound("there is no such join request")
    if accept:
        await follows.approve(session, urls, follow, now=now)
    else:
        await follows.refuse(session, urls, follow, now=now)


async def ban(session: AsyncSession, urls: LocalUrls, group: Actor, moderator: Actor, member: Actor, reason: str,
              *, now: datetime) -> GroupBan:
    """Ban someone: their membership ends (Reject of their Follow), they cannot rejoin, and the group
    announces nothing more of theirs (group_admission.post_refusal)."""
    await groups.require_moderator(session, group, moderator)
    if await groups.role_of(session, group, member) is not None:
        raise NotAllowed("take away the member's role before banning them", "GROUP_BAN_STAFF")
    if len(reason) > MAX_REASON:
        raise Invalid("reason", "ERR_TOO_LONG", f"a reason has at most {MAX_REASON} characters")
    existing = await session.get(GroupBan, (group.id, member.id))
    if existing is None:
        existing = GroupBan(group_id=group.id, actor_id=member.id, reason=reason.strip(), created_at=now)
        session.add(existing)
    follow = await follows.find(session, member.id, group.id)
    if follow is not None:
        await follows.refuse(session, urls, follow, now=now)
    await session.flush()
    return existing


async def unban(session: AsyncSession, group: Actor, moderator: Actor, member: Actor) -> None:
    """Lift a ban; the person may ask to join again."""
    await groups.require_moderator(session, group, moderator)
    await session.execute(delete(GroupBan).where(GroupBan.group_id == group.id, GroupBan.actor_id == member.id))


async def bans(session: AsyncSession, group: Actor) -> list[tuple[Actor, GroupBan]]:
    """Everyone banned from the group, newest ban first."""
    query = (select(Actor, GroupBan).join(GroupBan, GroupBan.actor_id == Actor.id)
             .where(GroupBan.group_id == group.id).order_by(GroupBan.created_at.desc()))
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def _followers(session: AsyncSession, group: Actor, state: str, max_id: int | None,
                     limit: int) -> list[tuple[int, Actor]]:
    query = (select(Follow.id, Actor).join(Actor, Actor.id == Follow.follower_id)
             .where(Follow.target_id == group.id, Follow.state == state))
    if max_id is not None:
        query = query.where(Follow.id < max_id)
    rows = (await session.execute(query.order_by(Follow.id.desc()).limit(limit))).all()
    return [(row[0], row[1]) for row in rows]
