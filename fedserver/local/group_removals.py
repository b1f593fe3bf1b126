"""The record of posts taken out of a group by its moderators, for the admin screens.

The post itself may be gone (a copy held only because of the group is deleted), so the record keeps its
address, its author and a short excerpt. A removal is not a ban: the author may post in the group again.
"""
from __future__ import annotations

import html
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import groups
from fedserver.local.models.actors import Actor
from fedserver.local.models.groups import GroupRemoval
from fedserver.local.models.statuses import Status

EXCERPT_LENGTH = 200
_BREAK = re.compile(r"<br\s*/?>|</p>", re.IGNORECASE)  # a line or paragraph ends: a space
_TAG = re.compile(r"<[^>]*>")  # inline markup (a mention's link and its spans): nothing


def excerpt_of(status: Status) -> str:
    """The post's text without markup, cut at a word near EXCERPT_LENGTH characters."""
    body = html.unescape(_TAG.sub("", _BREAK.sub(" ", status.content_html or "")))
    text = " ".join(" ".join(part for part in (status.spoiler_text, status.title or "", body) if part).split())
    if len(text) <= EXCERPT_LENGTH:
        return text
    cut = text[:EXCERPT_LENGTH].rsplit(" ", 1)[0] or text[:EXCERPT_LENGTH]
    return cut + "…"


async def record(session: AsyncSession, group: Actor, moderator: Actor | None, status: Status, reason: str, *,
                 now: datetime) -> GroupRemoval:
    """Note a removal before the post goes (its text is read here)."""
    removal = GroupRemoval(group_id=group.id, moderator_id=moderator.id if moderator is not None else None,
                           author_id=status.author_id, post_ap_id=status.ap_id, excerpt=excerpt_of(status),
                           reason=reason[:1024], created_at=now)
    session.add(removal)
    await session.flush()
    return removal


async def removals(session: AsyncSession, group: Actor, moderator: Actor, *, max_id: int | None,
                   limit: int) -> list[tuple[GroupRemoval, Actor | None, Actor | None]]:
    """(removal, author, moderator), newest first, for the group's admins and moderators; raises NotAllowed."""
    await groups.require_moderator(session, group, moderator)
    query = select(GroupRemoval).where(GroupRemoval.group_id == group.id)
    if max_id is not None:
        query = query.where(GroupRemoval.id < max_id)
    rows = list((await session.scalars(query.order_by(GroupRemoval.id.desc()).limit(limit))).all())
    ids = {actor_id for row in rows for actor_id in (row.author_id, row.moderator_id) if actor_id is not None}
    actors = {actor.id: actor for actor in (await session.scalars(select(Actor).where(Actor.id.in_(ids)))).all()}
    return [(row, actors.get(row.author_id or 0), actors.get(row.moderator_id or 0)) for row in rows]
