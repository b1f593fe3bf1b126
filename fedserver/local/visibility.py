"""Who may see a status: the one place the visibility rule lives (DESIGN.md, privacy promises).

Public and unlisted posts: anyone, unless a block stands between viewer and author.
Followers-only (`private`): the author, accepted followers, and the actors mentioned.
Direct: the author and the actors mentioned.
A post in a group (audience_id): also the group's accepted followers, its members.
A boost is visible when the boost and the boosted post both are.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import ACCEPTED, Block, Follow
from fedserver.local.models.statuses import LISTED_VISIBILITIES, PRIVATE, Mention, Status


def visible_to(viewer_id: int | None, status: Any = Status) -> ColumnElement[bool]:
    """A SQL condition on Status (or an alias of it, such as a boost's original) that holds when the
    viewer (None: anonymous) may see the row."""
    listed: ColumnElement[bool] = status.visibility.in_(LISTED_VISIBILITIES)
    if viewer_id is None:
        return listed
    author = status.author_id
    mentioned = exists().where(Mention.status_id == status.id, Mention.actor_id == viewer_id)
    follows = exists().where(Follow.follower_id == viewer_id, Follow.target_id == author, Follow.state == ACCEPTED)
    blocked = exists().where(or_(and_(Block.actor_id == viewer_id, Block.target_id == author),
                                 and_(Block.actor_id == author, Block.target_id == viewer_id)))
    # A post addressed to a group is seen by the group's members, whatever its own addressing (FEP-1b12).
    member = exists().where(Follow.follower_id == viewer_id, Follow.target_id == status.audience_id,
                            Follow.state == ACCEPTED)
    in_group = and_(status.audience_id.is_not(None), member)
    audience = or_(listed, author == viewer_id, mentioned, and_(status.visibility == PRIVATE, follows), in_group)
    return and_(audience, or_(author == viewer_id, ~blocked))


async def can_see(session: AsyncSession, viewer: Actor | None, status: Status) -> bool:
    """Whether the viewer (None: anonymous) may see this status, and the original when it is a boost."""
    ids = [status.id] + ([status.reblog_of_id] if status.reblog_of_id else [])
    query = select(Status.id).where(Status.id.in_(ids), visible_to(viewer.id if viewer else None))
    visible = set((await session.scalars(query)).all())
    return all(status_id in visible for status_id in ids)


