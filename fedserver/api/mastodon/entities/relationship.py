"""Relationship entity (docs.joinmastodon.org/entities/Relationship): one viewer, many accounts, seven queries."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import account_notes, domain_blocks, mutes
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import ACCEPTED, Block, Follow


async def render_relationships(session: AsyncSession, viewer: Actor, targets: Sequence[Actor], *,
                               now: datetime) -> list[dict[str, Any]]:
    """Relationships of the viewer with each target, in the targets' order."""
    ids = [target.id for target in targets]
    if not ids:
        return []
    follows = (await session.scalars(select(Follow).where(or_(
        (Follow.follower_id == viewer.id) & Follow.target_id.in_(ids),
        (Follow.target_id == viewer.id) & Follow.follower_id.in_(ids))))).all()
    outgoing = {f.target_id: f for f in follows if f.follower_id == viewer.id}
    incoming = {f.follower_id: f for f in follows if f.target_id == viewer.id}
    blocks = (await session.execute(select(Block.actor_id, Block.target_id).where(or_(
        (Block.actor_id == viewer.id) & Block.target_id.in_(ids),
        (Block.target_id == viewer.id) & Block.actor_id.in_(ids))))).all()
    blocking = {row.target_id for row in blocks if row.actor_id == viewer.id}
    blocked_by = {row.actor_id for row in blocks if row.target_id == viewer.id}
    muted = await mutes.active_among(session, viewer.id, ids, now=now)
    hidden_domains = await domain_blocks.blocked_among(session, viewer.id, {target.domain for target in targets})
    notes = await account_notes.notes_about(session, viewer.id, ids)
    return [{**_render(target, outgoing.get(target.id), incoming.get(target.id), target.id in blocking,
                       target.id in blocked_by, muted.get(target.id), target.domain in hidden_domains),
             "note": notes.get(target.id, "")} for target in targets]


def _render(target: Actor, mine: Follow | None, theirs: Follow | None, blocking: bool, blocked_by: bool,
            mute: Any, domain_blocking: bool) -> dict[str, Any]:
    following = mine is not None and mine.state == ACCEPTED
    requested = mine is not None and mine.state != ACCEPTED
    return {
        "id": str(target.id), "following": following,
        # For a pending request Mastodon reports the options it will have once accepted.
        "showing_reblogs": bool(mine and mine.show_reblogs), "notifying": bool(mine and mine.notify),
        "languages": None, "followed_by": theirs is not None and theirs.state == ACCEPTED,
        "blocking": blocking, "blocked_by": blocked_by, "muting": mute is not None,
        "muting_notifications": bool(mute is not None and mute.hide_notifications),
        "requested": requested, "requested_by": theirs is not None and theirs.state != ACCEPTED,
        "domain_blocking": domain_blocking, "endorsed": False, "note": "",
    }
