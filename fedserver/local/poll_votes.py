"""Poll votes: residents voting (on local polls, or on remote ones through a Create{Note} to the poll's
author, as Mastodon does), votes arriving from peers, and telling voters when a poll has ended."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.ids import lowest_id_at, new_id
from fedserver.local import notifications, polls, statuses, visibility, wire
from fedserver.local.errors import Invalid, NotFound
from fedserver.local.models.actors import Actor
from fedserver.local.models.notifications import Notification
from fedserver.local.models.polls import Poll, PollOption, PollVote
from fedserver.local.models.statuses import Status
from fedserver.local.urls import LocalUrls
from fedserver.outbox import activities, fanout, published
from fedserver.outbox.publish import publish
from fedserver.outbox.published import PublishedActivity

# Mastodon sends a poll's counts at most every three minutes (DistributePollUpdateWorker.perform_in(3.minutes),
# unique per poll), not once per vote.
COUNTS_EVERY = timedelta(minutes=3)


async def vote(session: AsyncSession, urls: LocalUrls, voter: Actor, poll: Poll, status: Status,
               choices: Sequence[int], *, now: datetime) -> None:
    """A local actor votes once; a remote poll's author gets one Create{Note} per choice."""
    if not await visibility.can_see(session, voter, status):
        raise NotFound("Record not found")
    options = await polls.options_of(session, poll.id)
    _check_vote(poll, status, voter, choices, len(options), now)
    if await session.scalar(select(PollVote.id).where(PollVote.poll_id == poll.id,
                                                      PollVote.actor_id == voter.id).limit(1)) is not None:
        raise Invalid("poll", "ERR_TAKEN", "You have already voted on this poll")
    author = await session.get(Actor, status.author_id)
    assert author is not None
    for position in choices:
        vote_id = new_id()
        ap_id = f"{voter.ap_id}#votes/{vote_id}"  # Mastodon's vote IRI: the voter's, never dereferenced
        session.add(PollVote(id=vote_id, poll_id=poll.id, actor_id=voter.id, position=position, ap_id=ap_id))
        if author.domain != "":
            await publish(session, activities.build_vote(ap_id, voter.ap_id, status.ap_id, author.ap_id,
                                                         options[position].title), inbox_urls=[author.inbox_url])
    await _count(session, poll, choices, first_vote=True)


def _check_vote(poll: Poll, status: Status, voter: Actor, choices: Sequence[int], option_count: int,
                now: datetime) -> None:
    if poll.expires_at is not None and poll.expires_at <= now:
        raise Invalid("poll", "ERR_INVALID", "The poll has already ended")
    if status.author_id == voter.id:
        raise Invalid("poll", "ERR_INVALID", "You cannot vote in your own polls")
    if not choices or any(not 0 <= choice < option_count for choice in choices):
        raise Invalid("choices", "ERR_INVALID", "The chosen vote option does not exist")
    if len(set(choices)) != len(choices) or (len(choices) > 1 and not poll.is_multiple):
        raise Invalid("choices", "ERR_INVALID", "choose one option, or several different ones in a multiple choice poll")


async def _count(session: AsyncSession, poll: Poll, positions: Sequence[int], *, first_vote: bool) -> None:
    """Add votes to the tallies in SQL, so concurrent votes do not overwrite each other."""
    await session.execute(update(PollOption).where(PollOption.poll_id == poll.id, PollOption.position.in_(positions))
                          .values(votes_count=PollOption.votes_count + 1))
    if first_vote:
        await session.execute(update(Poll).where(Poll.id == poll.id).values(voters_count=Poll.voters_count + 1))
    await session.flush()
    await session.refresh(poll)


async def record_remote(session: AsyncSession, voter: Actor, question_ap_id: str, choice: str, vote_ap_id: str,
                        *, now: datetime) -> bool:
    """A peer's vote on one of our polls; False when the note is no vote here (then it is a post)."""
    row = (await session.execute(select(Poll, Status).join(Status, Status.id == Poll.status_id).where(
        Status.ap_id == question_ap_id, Status.is_local.is_(True)))).first()
    if row is None:
        return False
    poll, status = row[0], row[1]
    position = await session.scalar(select(PollOption.position).where(PollOption.poll_id == poll.id,
                                                                      PollOption.title == choice))
    if position is None:
        return False
    earlier = set((await session.scalars(select(PollVote.position).where(
        PollVote.poll_id == poll.id, PollVote.actor_id == voter.id))).all())
    repeated = await session.scalar(select(PollVote.id).where(PollVote.ap_id == vote_ap_id)) is not None
    refused = (repeated or (poll.expires_at is not None and poll.expires_at <= now) or status.author_id == voter.id
               or position in earlier or (earlier and not poll.is_multiple)
               or not await visibility.can_see(session, voter, status))
    if not refused:  # a refused vote is still a vote: it must not become a reply in anyone's feed
        session.add(PollVote(poll_id=poll.id, actor_id=voter.id, position=position, ap_id=vote_ap_id))
        await _count(session, poll, [position], first_vote=not earlier)
    return True


async def finish_ended(session: AsyncSession, urls: LocalUrls, *, since: datetime, now: datetime) -> int:
    """Polls that ended after `since`: local voters (and a local author) are told, a local poll's audience
    gets the final counts. Housekeeping calls it with the time of its previous round."""
    told = exists().where(Notification.kind == "poll", Notification.status_id == Poll.status_id)
    query = (select(Poll, Status).join(Status, Status.id == Poll.status_id)
             .where(Poll.expires_at <= now, Poll.expires_at > since, ~told))  # told: another process was first
    finished = 0
    for poll, status in (await session.execute(query)).all():
        author = await session.get(Actor, status.author_id)
        assert author is not None
        voters = (await session.scalars(select(Actor).where(Actor.domain == "", Actor.id.in_(
            select(PollVote.actor_id).where(PollVote.poll_id == poll.id))))).all()
        for recipient in [*voters, author] if author.domain == "" else voters:
            await notifications.notify(session, recipient, "poll", author, status_id=status.id, now=now)
        if author.domain == "":
            await _publish_counts(session, urls, status, author, poll, now)
        finished += 1
    return finished


async def publish_counts(session: AsyncSession, urls: LocalUrls, *, now: datetime) -> int:
    """Open local polls with votes newer than their last Update, and none sent for COUNTS_EVERY: everyone who
    got the poll and every remote voter gets the counts as they are now. Housekeeping calls it every minute."""
    last_update = (select(func.max(PublishedActivity.id)).where(
        PublishedActivity.object_ap_id == Status.ap_id, PublishedActivity.type == "Update").scalar_subquery())
    # Ids are time-ordered: a vote with a higher id than the last Update (or the post) came after it.
    newer_vote = exists().where(PollVote.poll_id == Poll.id, PollVote.id > func.coalesce(last_update, Status.id))
    query = (select(Poll, Status).join(Status, Status.id == Poll.status_id)
             .where(Status.is_local.is_(True), or_(Poll.expires_at.is_(None), Poll.expires_at > now), newer_vote,
                    func.coalesce(last_update, 0) < lowest_id_at(now - COUNTS_EVERY)))
    sent = 0
    for poll, status in (await session.execute(query)).all():
        author = await session.get(Actor, status.author_id)
        assert author is not None
        await _publish_counts(session, urls, status, author, poll, now)
        sent += 1
    return sent


async def _publish_counts(session: AsyncSession, urls: LocalUrls, status: Status, author: Actor, poll: Poll,
                          now: datetime) -> None:
    """Update{Question} with the counts (and `closed` once ended) to everyone who got the poll and every
    remote voter; the outbox's Create carries them too."""
    note = await wire.note_shape(session, urls, status, author)
    note = replace(note, poll=await polls.shape_of(session, status.id, now=now))  # `closed` as of `now`
    update_activity = activities.build_update(note, urls.activity(author.username, new_id()), now)
    await published.replace_object(session, status.ap_id, update_activity["object"])
    voters = (await session.execute(select(Actor.inbox_url, Actor.shared_inbox_url).where(
        Actor.domain != "", Actor.id.in_(select(PollVote.actor_id).where(PollVote.poll_id == poll.id))))).all()
    inboxes = await statuses.audience_inboxes(session, status, author)
    inboxes += fanout.inbox_urls([(row.inbox_url, row.shared_inbox_url) for row in voters])
    await publish(session, update_activity, inbox_urls=inboxes, object_ap_id=status.ap_id)
