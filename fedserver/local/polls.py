"""Polls: the choices of a Question, as a peer reports them (votes of local residents come later)."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub.shapes import Poll as PollShape
from fedserver.local.models.polls import Poll, PollOption

MAX_OPTIONS = 20  # more than any server offers; a flood of options is refused by truncation


async def store_remote(session: AsyncSession, status_id: int, shape: PollShape) -> Poll:
    """Create or refresh the poll of a remote status with the counts its server reported."""
    poll = (await session.scalars(select(Poll).where(Poll.status_id == status_id))).first()
    if poll is None:
        poll = Poll(status_id=status_id)
        session.add(poll)
    poll.is_multiple = shape.multiple
    poll.expires_at = shape.closed or shape.end_time
    poll.voters_count = shape.voters_count if shape.voters_count is not None else sum(o.votes for o in shape.options)
    await session.flush()
    await session.execute(delete(PollOption).where(PollOption.poll_id == poll.id))
    session.add_all(PollOption(poll_id=poll.id, position=position, title=option.title, votes_count=option.votes)
                    for position, option in enumerate(shape.options[:MAX_OPTIONS]))
    await session.flush()
    return poll
