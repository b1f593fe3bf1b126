"""Who may join a group hosted here, and who may post into it: the two rules every path asks (API, inbox, relay).

Kept free of follows.py and the outbox, so that follows.py can ask it before accepting a Follow of a group.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.models.actors import GROUP, Actor
from fedserver.local.models.groups import ANYONE, MODERATORS, GroupBan, GroupRole, GroupSettings
from fedserver.local.models.interactions import ACCEPTED, Follow


def is_local_group(actor: Actor) -> bool:
    return actor.kind == GROUP and actor.domain == ""


async def is_banned(session: AsyncSession, group: Actor, actor: Actor) -> bool:
    query = select(GroupBan.actor_id).where(GroupBan.group_id == group.id, GroupBan.actor_id == actor.id)
    return await session.scalar(query) is not None


async def is_member(session: AsyncSession, group: Actor, actor: Actor) -> bool:
    """Members are the group's accepted followers (FEP-1b12)."""
    query = select(Follow.id).where(Follow.follower_id == actor.id, Follow.target_id == group.id,
                                    Follow.state == ACCEPTED)
    return await session.scalar(query) is not None


async def join_refusal(session: AsyncSession, follower: Actor, target: Actor) -> str | None:
    """Why the follower may not join the target group (None: it may, or the target is no group of ours)."""
    if not is_local_group(target):
        return None
    if await is_banned(session, target, follower):
        return "you are banned from this group"
    settings = await session.get(GroupSettings, target.id)
    if settings is not None and settings.is_local_only and follower.domain != "":
        return "this group is open to residents of this city only"
    return None


async def post_refusal(session: AsyncSession, group: Actor, author: Actor) -> str | None:
    """Why the author's post may not be announced by the group (None: it may)."""
    if await is_banned(session, group, author):
        return f"{author.ap_id} is banned from the group"
    settings = await session.get(GroupSettings, group.id)
    if settings is not None and settings.is_local_only and author.domain != "":
        return "the group is open to residents of this city only"
    role = await session.scalar(select(GroupRole.role).where(GroupRole.group_id == group.id,
                                                             GroupRole.actor_id == author.id))
    posting_mode = settings.posting_mode if settings is not None else "members"
    if role is not None or posting_mode == ANYONE:
        return None
    if posting_mode == MODERATORS:
        return "only the group's moderators may post into it"
    if not await is_member(session, group, author):
        return f"{author.ap_id} is not a member of the group"
    return None
