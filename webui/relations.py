"""How the viewer stands to the accounts a page shows: follow states and a profile's counts, each in one query
(every query is a round trip to the database thread)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.models.interactions import ACCEPTED, Follow


@dataclass(frozen=True)
class ProfileFacts:
    followers: int
    following: int
    follow_state: str | None  # the viewer's follow of this account: None, "pending" or "accepted"


async def follow_states(session: AsyncSession, viewer_id: int, actor_ids: Iterable[int]) -> dict[int, str | None]:
    """The viewer's follow state towards each of these accounts (None: not followed)."""
    ids = [actor_id for actor_id in set(actor_ids) if actor_id != viewer_id]
    if not ids:
        return {}
    rows = (await session.execute(select(Follow.target_id, Follow.state).where(
        Follow.follower_id == viewer_id, Follow.target_id.in_(ids)))).all()
    found: dict[int, str | None] = {actor_id: None for actor_id in ids}
    found.update({target_id: state for target_id, state in rows})
    return found


async def profile_facts(session: AsyncSession, actor_id: int, viewer_id: int | None) -> ProfileFacts:
    """Accepted followers and follows of an account (as follows.count_followers and count_following count
    them), and the viewer's follow state towards it."""
    followers = select(func.count(Follow.id)).where(Follow.target_id == actor_id, Follow.state == ACCEPTED)
    following = select(func.count(Follow.id)).where(Follow.follower_id == actor_id, Follow.state == ACCEPTED)
    state = select(Follow.state).where(Follow.follower_id == (viewer_id or 0), Follow.target_id == actor_id)
    row = (await session.execute(select(followers.scalar_subquery(), following.scalar_subquery(),
                                        state.scalar_subquery()))).one()
    return ProfileFacts(followers=int(row[0] or 0), following=int(row[1] or 0),
                        follow_state=row[2] if viewer_id is not None and viewer_id != actor_id else None)
