"""Poll entity (docs.joinmastodon.org/entities/Poll), for many statuses in three queries."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.db import utcnow
from fedserver.local import polls
from fedserver.local.models.actors import Actor
from fedserver.local.models.polls import Poll, PollOption
from fedserver.local.models.statuses import Status


async def render_polls(session: AsyncSession, statuses: Sequence[Status], viewer: Actor | None,
                       now: datetime | None = None) -> dict[int, dict[str, Any]]:
    """Poll entities by status id, for the statuses that carry a poll (no query when none is a Question)."""
    ids = [status.id for status in statuses if status.object_type == "Question"]
    if not ids:
        return {}
    found = (await session.scalars(select(Poll).where(Poll.status_id.in_(ids)))).all()
    if not found:
        return {}
    options: dict[int, list[PollOption]] = {}
    for option in (await session.scalars(select(PollOption).where(PollOption.poll_id.in_([p.id for p in found]))
                                         .order_by(PollOption.poll_id, PollOption.position))).all():
        options.setdefault(option.poll_id, []).append(option)
    chosen = await polls.own_votes(session, [p.id for p in found], viewer.id) if viewer else {}
    authors = {status.id: status.author_id for status in statuses}
    return {poll.status_id: _render(poll, options.get(poll.id, []), chosen.get(poll.id),
                                    viewer, authors[poll.status_id], now or utcnow()) for poll in found}


async def render_poll(session: AsyncSession, poll: Poll, status: Status, viewer: Actor | None,
                      now: datetime | None = None) -> dict[str, Any]:
    return (await render_polls(session, [status], viewer, now))[status.id]


def _render(poll: Poll, options: list[PollOption], chosen: list[int] | None, viewer: Actor | None,
            author_id: int, now: datetime) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": str(poll.id), "expires_at": _time(poll.expires_at) if poll.expires_at else None,
        "expired": poll.expires_at is not None and poll.expires_at <= now, "multiple": poll.is_multiple,
        "votes_count": sum(option.votes_count for option in options), "voters_count": poll.voters_count,
        "options": [{"title": option.title, "votes_count": option.votes_count} for option in options],
        "emojis": [],
    }
    if viewer is not None:  # Mastodon sends these two only to a signed-in viewer; the author counts as voted
        entity["voted"] = bool(chosen) or viewer.id == author_id
        entity["own_votes"] = chosen or []
    return entity


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
