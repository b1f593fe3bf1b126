"""Threads: the posts above and below a status, in reading order, as far as the viewer may see them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Mute
from fedserver.local.models.statuses import Status
from fedserver.local.visibility import visible_to

# Mastodon's limits (Api::V1::StatusesController): generous when signed in, small for anonymous callers.
LIMIT = 4096
ANONYMOUS_ANCESTORS, ANONYMOUS_DESCENDANTS, ANONYMOUS_DEPTH = 40, 60, 20


async def ancestors(session: AsyncSession, status: Status, viewer: Actor | None, *, now: datetime,
                    limit: int = LIMIT) -> list[Status]:
    """The chain of posts this one answers, the thread's first post first."""
    if status.in_reply_to_id is None:
        return []
    chain = (select(Status.id.label("id"), Status.in_reply_to_id.label("parent"), literal(1).label("depth"))
             .where(Status.id == status.in_reply_to_id).cte("ancestors", recursive=True))
    chain = chain.union_all(select(Status.id, Status.in_reply_to_id, chain.c.depth + 1)
                            .join(chain, Status.id == chain.c.parent).where(chain.c.depth < limit))
    query = (select(Status).join(chain, chain.c.id == Status.id).where(shown_to(viewer, now))
             .order_by(chain.c.depth.desc()))
    return list((await session.scalars(query)).all())


async def descendants(session: AsyncSession, status: Status, viewer: Actor | None, *, now: datetime,
                      limit: int = LIMIT, depth: int = LIMIT) -> list[Status]:
    """The replies below this post depth first, each level oldest first (the order Mastodon shows)."""
    tree = (select(Status.id.label("id"), Status.in_reply_to_id.label("parent"), literal(1).label("depth"))
            .where(Status.in_reply_to_id == status.id).cte("descendants", recursive=True))
    tree = tree.union_all(select(Status.id, Status.in_reply_to_id, tree.c.depth + 1)
                          .join(tree, Status.in_reply_to_id == tree.c.id).where(tree.c.depth < depth))
    rows = (await session.execute(select(tree.c.id, tree.c.parent).limit(LIMIT))).all()
    children: dict[int, list[int]] = {}
    for child, parent in rows:
        children.setdefault(parent, []).append(child)
    ordered = _depth_first(children, status.id)[:limit]
    if not ordered:
        return []
    shown = {s.id: s for s in (await session.scalars(
        select(Status).where(Status.id.in_(ordered), shown_to(viewer, now)))).all()}
    return [shown[status_id] for status_id in ordered if status_id in shown]


def _depth_first(children: dict[int, list[int]], root: int) -> list[int]:
    ordered: list[int] = []
    stack = sorted(children.get(root, []), reverse=True)
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        ordered.append(current)
        stack.extend(sorted(children.get(current, []), reverse=True))
    return ordered


def shown_to(viewer: Actor | None, now: datetime) -> ColumnElement[bool]:
    """Visible to the viewer, and not by someone the viewer muted (Mastodon's StatusFilter)."""
    if viewer is None:
        return visible_to(None)
    muted = exists().where(Mute.actor_id == viewer.id, Mute.target_id == Status.author_id,
                           or_(Mute.expires_at.is_(None), Mute.expires_at > now))
    return and_(visible_to(viewer.id), ~muted)
