"""A group's Announces arriving here (FEP-1b12): the relayed post joins the group, and a moderator's removal
takes it out again. Works alike for groups on other cities, Lemmy communities and Guppe-style groups."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.db import utcnow
from fedserver.local import actors, boosts, group_removals, streams
from fedserver.local.models.actors import GROUP, Actor
from fedserver.local.models.statuses import Status
from fedserver.outbox import published


async def received_from_group(session: AsyncSession, group: Actor, object_ap_id: str, announce_ap_id: str,
                              to: tuple[str, ...], cc: tuple[str, ...], *, now: datetime) -> Status | None:
    """A group Announced a member's post: the post is marked as the group's, and the Announce is kept as the
    group's boost, which is how the group's members here see it (home timelines, the group's statuses)."""
    if group.kind != GROUP:
        return None
    status = (await session.scalars(select(Status).where(Status.ap_id == object_ap_id))).first()
    if status is None or status.reblog_of_id is not None:
        return None
    if status.audience_id is None:
        status.audience_id = group.id
    return await boosts.record_remote(session, group, status, announce_ap_id, to, cc, now=now)


async def event_group(session: AsyncSession, actor: Actor, attributed_to: str, organizer: str | None) -> Actor | None:
    """Mobilizon's group events: the organizer sends the Create, the Event is attributed to the group and names
    the organizer as its `actor`. The group, when that is what the actor may post for: a Group we know, on
    the actor's own server, and the actor is the organizer the Event names. None otherwise."""
    if organizer != actor.ap_id or actor.domain == "" or actors.origin_of(attributed_to) != actors.origin_of(actor.ap_id):
        return None
    group = await actors.find_by_ap_id(session, attributed_to)
    return group if group is not None and group.kind == GROUP else None


async def receive_removal(session: AsyncSession, group: Actor, remover: Actor, object_ap_id: str, reason: str = "",
                          *, now: datetime | None = None) -> bool:
    """A group's moderators removed a post from it (Announce{Delete} by the group of a post that still exists
    at its origin): a copy we hold only because of the group goes; our own resident's post stays theirs but
    leaves the group. False when the post is not in that group here, or when the remover is its author: an
    author's own Delete counts only once the origin says the post is gone (handlers/relayed.py). The removal
    is recorded (group_removals) as the group's moderators stated it."""
    status = (await session.scalars(select(Status).where(Status.ap_id == object_ap_id))).first()
    if group.kind != GROUP or status is None or status.audience_id != group.id or status.author_id == remover.id:
        return False
    await group_removals.record(session, group, remover, status, reason.strip(), now=now or utcnow())
    if status.is_local:
        await leave_group(session, status, group)
        return True
    author = await session.get(Actor, status.author_id)
    assert author is not None
    await streams.on_status_deleted(session, status, author)  # before the row goes: its audience is read from it
    await session.execute(delete(Status).where(Status.id == status.id))
    await published.forget_object(session, status.ap_id)  # the group's Announce of it, when the group is ours
    return True


async def leave_group(session: AsyncSession, status: Status, group: Actor) -> None:
    """The post stays, but no longer belongs to the group: the group's boosts of it go."""
    status.audience_id = None
    boosts_of_it = (await session.scalars(select(Status).where(Status.author_id == group.id,
                                                               Status.reblog_of_id == status.id))).all()
    for boost in boosts_of_it:
        await streams.on_status_deleted(session, boost, group)
        await session.execute(delete(Status).where(Status.id == boost.id))
        await published.forget_activity(session, boost.ap_id)
    await session.flush()
