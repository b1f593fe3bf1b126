"""Polls: the choices of a local post's poll, and of a remote Question as its server reports them.

Votes (cast here or arriving from peers) live in poll_votes.py; this module owns the options.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub.shapes import Poll as PollShape
from fedserver.activitypub.shapes import PollOption as OptionShape
from fedserver.db import utcnow
from fedserver.local.errors import Invalid, NotFound
from fedserver.local.models.polls import Poll, PollOption, PollVote
from fedserver.local.models.statuses import Status

MAX_OPTIONS = 20  # more than any server offers; a flood of options is refused by truncation
# Mastodon's limits (PollValidator), announced in /api/v2/instance configuration.polls.
LOCAL_MAX_OPTIONS = 4
MAX_OPTION_CHARACTERS = 50
MIN_EXPIRATION = timedelta(seconds=300)
MAX_EXPIRATION = timedelta(seconds=2_629_746)
UNCHANGED: Final = "unchanged"  # statuses.edit: leave the poll as it is
Unchanged = Literal["unchanged"]


@dataclass(frozen=True)
class PollDraft:
    """A poll as a local author asks for it."""

    options: tuple[str, ...]
    expires_in: int  # seconds from now
    multiple: bool = False


def check_draft(draft: PollDraft) -> PollDraft:
    """The draft with options trimmed; raises Invalid with Mastodon's reasons."""
    options = tuple(option.strip() for option in draft.options if option.strip())
    if len(options) < 2:
        raise Invalid("poll", "ERR_TOO_SHORT", "a poll must have more than one option")
    if len(options) > LOCAL_MAX_OPTIONS:
        raise Invalid("poll", "ERR_TOO_LONG", f"a poll can't contain more than {LOCAL_MAX_OPTIONS} options")
    if any(len(option) > MAX_OPTION_CHARACTERS for option in options):
        raise Invalid("poll", "ERR_TOO_LONG", f"poll options cannot be longer than {MAX_OPTION_CHARACTERS} characters")
    if len(set(options)) != len(options):
        raise Invalid("poll", "ERR_TAKEN", "poll options must not repeat")
    if draft.expires_in < MIN_EXPIRATION.total_seconds():
        raise Invalid("poll", "ERR_INVALID", "a poll must run for at least five minutes")
    if draft.expires_in > MAX_EXPIRATION.total_seconds():
        raise Invalid("poll", "ERR_INVALID", "a poll can run for a month at most")
    return PollDraft(options, draft.expires_in, draft.multiple)


async def create_local(session: AsyncSession, status: Status, draft: PollDraft, *, now: datetime) -> Poll:
    """Give a local status its poll; the status becomes a Question on the wire."""
    draft = check_draft(draft)
    poll = Poll(status_id=status.id, expires_at=now + timedelta(seconds=draft.expires_in),
                is_multiple=draft.multiple, voters_count=0)
    session.add(poll)
    await session.flush()
    session.add_all(PollOption(poll_id=poll.id, position=position, title=title, votes_count=0)
                    for position, title in enumerate(draft.options))
    status.object_type = "Question"
    await session.flush()
    return poll


async def replace_local(session: AsyncSession, status: Status, draft: PollDraft | None, *, now: datetime) -> None:
    """An edit's poll: same options keep their votes (only the end moves), other options start afresh."""
    poll = await of_status(session, status.id)
    if draft is None:
        if poll is not None:
            await session.execute(delete(Poll).where(Poll.id == poll.id))
        status.object_type = "Note"
        return
    draft = check_draft(draft)
    if poll is not None:
        titles = tuple((await session.scalars(select(PollOption.title).where(PollOption.poll_id == poll.id)
                                              .order_by(PollOption.position))).all())
        if titles == draft.options and poll.is_multiple == draft.multiple:
            poll.expires_at = now + timedelta(seconds=draft.expires_in)  # Mastodon keeps the votes then
            return
        await session.execute(delete(Poll).where(Poll.id == poll.id))  # options and votes go with it
        await session.flush()
    await create_local(session, status, draft, now=now)


async def of_status(session: AsyncSession, status_id: int) -> Poll | None:
    return (await session.scalars(select(Poll).where(Poll.status_id == status_id))).first()


async def find(session: AsyncSession, poll_id: int) -> tuple[Poll, Status]:
    """A poll with its status; raises NotFound."""
    row = (await session.execute(select(Poll, Status).join(Status, Status.id == Poll.status_id)
                                 .where(Poll.id == poll_id))).first()
    if row is None:
        raise NotFound("Record not found")
    return row[0], row[1]


async def options_of(session: AsyncSession, poll_id: int) -> list[PollOption]:
    query = select(PollOption).where(PollOption.poll_id == poll_id).order_by(PollOption.position)
    return list((await session.scalars(query)).all())


async def shape_of(session: AsyncSession, status_id: int, *, now: datetime | None = None) -> PollShape | None:
    """A local poll as the Question's choices, with `closed` once it has ended."""
    poll = await of_status(session, status_id)
    if poll is None:
        return None
    options = await options_of(session, poll.id)
    ended = poll.expires_at is not None and poll.expires_at <= (now or utcnow())
    return PollShape(options=tuple(OptionShape(title=o.title, votes=o.votes_count) for o in options),
                     multiple=poll.is_multiple, end_time=poll.expires_at,
                     closed=poll.expires_at if ended else None, voters_count=poll.voters_count)


async def store_remote(session: AsyncSession, status_id: int, shape: PollShape) -> Poll:
    """Create or refresh the poll of a remote status with the counts its server reported."""
    poll = await of_status(session, status_id)
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


async def own_votes(session: AsyncSession, poll_ids: list[int], actor_id: int) -> dict[int, list[int]]:
    """The positions an actor chose, by poll."""
    if not poll_ids:
        return {}
    rows = await session.execute(select(PollVote.poll_id, PollVote.position).where(
        PollVote.poll_id.in_(poll_ids), PollVote.actor_id == actor_id).order_by(PollVote.position))
    chosen: dict[int, list[int]] = {}
    for poll_id, position in rows.all():
        chosen.setdefault(poll_id, []).append(position)
    return chosen
