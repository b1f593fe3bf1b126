"""Boosts (AS2 Announce, Mastodon: reblogs): a status row that points at the boosted one."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub import addressing
from fedserver.ids import new_id
from fedserver.local import follows, notifications
from fedserver.local import streams
from fedserver.local.errors import Invalid, NotAllowed, NotFound
from fedserver.local.models.actors import Actor
from fedserver.local.models.statuses import LISTED_VISIBILITIES, PRIVATE, Status
from fedserver.local.visibility import can_see
from fedserver.local.urls import LocalUrls
from fedserver.outbox import activities, fanout, published
from fedserver.outbox.publish import publish


async def find(session: AsyncSession, actor_id: int, status_id: int) -> Status | None:
    query = select(Status).where(Status.author_id == actor_id, Status.reblog_of_id == status_id)
    return (await session.scalars(query)).first()


async def boost(session: AsyncSession, urls: LocalUrls, actor: Actor, status: Status, *, now: datetime,
                visibility: str | None = None) -> Status:
    """A local actor boosts a public or unlisted status it may see; followers and the author's server get an
    Announce. The boost itself may be public, unlisted or followers-only (Mastodon's reblog visibility)."""
    if not await can_see(session, actor, status):
        raise NotFound("Record not found")
    if status.visibility not in LISTED_VISIBILITIES:
        raise NotAllowed("only public and unlisted posts can be boosted")
    shown = visibility or status.visibility
    if shown not in (*LISTED_VISIBILITIES, PRIVATE):
        raise Invalid("visibility", "ERR_INVALID", "a boost is public, unlisted or private")
    if status.reblog_of_id is not None:
        raise NotAllowed("boost the original post, not a boost")
    existing = await find(session, actor.id, status.id)
    if existing is not None:
        return existing
    boost_id = new_id()
    row = Status(id=boost_id, ap_id=urls.activity(actor.username, boost_id), author_id=actor.id,
                 visibility=shown, is_local=True, reblog_of_id=status.id, published_at=now, created_at=now)
    session.add(row)
    await session.flush()
    await streams.on_status_created(session, row, actor)
    author = await session.get(Actor, status.author_id)
    assert author is not None
    await notifications.notify(session, author, "reblog", actor, status_id=status.id, now=now)
    to, cc = addressing.address(shown, actor.followers_url or "", [author.ap_id])
    recipients = await follows.remote_inboxes_of_followers(session, actor.id)
    if author.domain != "":
        recipients.append((author.inbox_url, author.shared_inbox_url))
    await publish(session, activities.build_announce(row.ap_id, actor.ap_id, status.ap_id, to, cc, now),
                  inbox_urls=fanout.inbox_urls(recipients), is_listed=shown in LISTED_VISIBILITIES,
                  object_ap_id=status.ap_id)
    return row


async def unboost(session: AsyncSession, urls: LocalUrls, actor: Actor, status: Status, *, now: datetime) -> None:
    """Take a boost back: the boost row goes, and everyone who got the Announce gets Undo{Announce}."""
    row = await find(session, actor.id, status.id)
    if row is None:
        return
    await streams.on_status_deleted(session, row, actor)
    await session.execute(delete(Status).where(Status.id == row.id))
    await published.forget_activity(session, row.ap_id)
    author = await session.get(Actor, status.author_id)
    assert author is not None
    await notifications.withdraw(session, author.id, "reblog", actor.id, status.id)
    to, cc = addressing.address(row.visibility, actor.followers_url or "", [author.ap_id])
    recipients = await follows.remote_inboxes_of_followers(session, actor.id)
    if author.domain != "":
        recipients.append((author.inbox_url, author.shared_inbox_url))
    undone = activities.build_announce(row.ap_id, actor.ap_id, status.ap_id, to, cc, row.published_at)
    await publish(session, activities.build_undo(urls.activity(actor.username, new_id()), actor.ap_id, undone, to, cc),
                  inbox_urls=fanout.inbox_urls(recipients))


async def record_remote(session: AsyncSession, booster: Actor, status: Status, activity_ap_id: str,
                        to: tuple[str, ...], cc: tuple[str, ...], *, now: datetime) -> Status:
    """A peer's Announce: stored as a boost row with the activity's id, so Undo finds it."""
    existing = (await session.scalars(select(Status).where(Status.ap_id == activity_ap_id))).first()
    if existing is not None:
        return existing
    row = Status(ap_id=activity_ap_id, author_id=booster.id, is_local=False, reblog_of_id=status.id,
                 visibility=addressing.visibility_of(to, cc, booster.followers_url), published_at=now, created_at=now)
    session.add(row)
    await session.flush()
    await streams.on_status_created(session, row, booster)
    author = await session.get(Actor, status.author_id)
    if author is not None:
        await notifications.notify(session, author, "reblog", booster, status_id=status.id, now=now)
    return row


async def undo_remote(session: AsyncSession, booster: Actor, activity_ap_id: str) -> bool:
    """Undo{Announce} from a peer: remove the boost row it created."""
    row = (await session.scalars(select(Status).where(Status.ap_id == activity_ap_id,
                                                      Status.author_id == booster.id))).first()
    if row is None or row.reblog_of_id is None:
        return False
    await streams.on_status_deleted(session, row, booster)
    await session.execute(delete(Status).where(Status.id == row.id))
    original = await session.get(Status, row.reblog_of_id)
    if original is not None:
        await notifications.withdraw(session, original.author_id, "reblog", booster.id, original.id)
    return True
