"""Lists: an account's own groupings of the people it follows, each with its own timeline."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.errors import Invalid, NotFound
from fedserver.local.models.actors import Actor
from fedserver.local.models.clients import List, ListMember
from fedserver.local.models.interactions import Follow

REPLIES_POLICIES = ("followed", "list", "none")
MAX_TITLE = 255


def _checked(title: str | None, replies_policy: str | None) -> tuple[str | None, str | None]:
    if title is not None:
        title = title.strip()
        if not title:
            raise Invalid("title", "ERR_BLANK", "Title can't be blank")
        if len(title) > MAX_TITLE:
            raise Invalid("title", "ERR_TOO_LONG", f"Title is too long (at most {MAX_TITLE} characters)")
    if replies_policy is not None and replies_policy not in REPLIES_POLICIES:
        raise Invalid("replies_policy", "ERR_INCLUSION", "Replies policy is not included in the list")
    return title, replies_policy


async def create(session: AsyncSession, account_id: int, title: str | None, *, replies_policy: str | None = None,
                 is_exclusive: bool = False) -> List:
    """A new list owned by the account; a title is required."""
    title, replies_policy = _checked(title if title is not None else "", replies_policy)
    owned = List(account_id=account_id, title=title, replies_policy=replies_policy or "list",
                 is_exclusive=is_exclusive)
    session.add(owned)
    await session.flush()
    return owned


async def update(session: AsyncSession, owned: List, *, title: str | None = None, replies_policy: str | None = None,
                 is_exclusive: bool | None = None) -> List:
    """Rename a list or change its replies policy or exclusivity."""
    title, replies_policy = _checked(title, replies_policy)
    owned.title = title or owned.title
    owned.replies_policy = replies_policy or owned.replies_policy
    if is_exclusive is not None:
        owned.is_exclusive = is_exclusive
    await session.flush()
    return owned


async def remove(session: AsyncSession, owned: List) -> None:
    """Delete a list; its members rows go with it."""
    await session.execute(delete(ListMember).where(ListMember.list_id == owned.id))
    await session.delete(owned)
    await session.flush()


async def find_own(session: AsyncSession, account_id: int, list_id: int) -> List:
    """One of the account's lists; someone else's list is simply not found."""
    owned = await session.scalar(select(List).where(List.id == list_id, List.account_id == account_id))
    if owned is None:
        raise NotFound("Record not found")
    return owned


async def all_of(session: AsyncSession, account_id: int) -> list[List]:
    """Every list of the account, oldest first (the order they were made)."""
    return list((await session.scalars(select(List).where(List.account_id == account_id).order_by(List.id))).all())


async def containing(session: AsyncSession, account_id: int, actor_id: int) -> list[List]:
    """The account's lists that have this actor as a member."""
    query = (select(List).join(ListMember, ListMember.list_id == List.id)
             .where(List.account_id == account_id, ListMember.actor_id == actor_id).order_by(List.id))
    return list((await session.scalars(query)).all())


async def members(session: AsyncSession, owned: List, *, max_id: int | None = None, since_id: int | None = None,
                  limit: int | None = 40) -> list[Actor]:
    """The list's members, newest actor id first; limit None lists them all."""
    query = (select(Actor).join(ListMember, ListMember.actor_id == Actor.id)
             .where(ListMember.list_id == owned.id).order_by(Actor.id.desc()))
    if max_id is not None:
        query = query.where(Actor.id < max_id)
    if since_id is not None:
        query = query.where(Actor.id > since_id)
    if limit is not None:
        query = query.limit(limit)
    return list((await session.scalars(query)).all())


async def add(session: AsyncSession, owned: List, owner: Actor, actor_ids: Sequence[int]) -> None:
    """Add members: each must exist and be followed (or requested) by the owner, as Mastodon requires."""
    wanted = set(actor_ids) - {owner.id}
    followed = set((await session.scalars(select(Follow.target_id).where(
        Follow.follower_id == owner.id, Follow.target_id.in_(wanted)))).all())
    if wanted - followed:
        raise NotFound("Record not found")  # Mastodon: Follow.find_by! -> 404 for anyone not followed
    present = set((await session.scalars(select(ListMember.actor_id).where(
        ListMember.list_id == owned.id, ListMember.actor_id.in_(set(actor_ids))))).all())
    if present:
        raise Invalid("account_id", "ERR_TAKEN", "Account has already been taken")
    session.add_all(ListMember(list_id=owned.id, actor_id=actor_id) for actor_id in dict.fromkeys(actor_ids))
    await session.flush()


async def discard(session: AsyncSession, owned: List, actor_ids: Sequence[int]) -> None:
    """Remove members; ids that were not members are ignored."""
    await session.execute(delete(ListMember).where(ListMember.list_id == owned.id,
                                                   ListMember.actor_id.in_(list(actor_ids))))
