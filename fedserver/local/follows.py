"""Follows: requesting, accepting, rejecting and ending them, here and across servers."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub import vocab
from fedserver.ids import new_id
from fedserver.local import group_admission, notifications
from fedserver.local.errors import NotAllowed
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import ACCEPTED, PENDING, Block, DomainBlock, Follow
from fedserver.local.urls import LocalUrls
from fedserver.outbox import activities
from fedserver.outbox.publish import publish


async def find(session: AsyncSession, follower_id: int, target_id: int) -> Follow | None:
    """The follow between two actors, pending or accepted."""
    query = select(Follow).where(Follow.follower_id == follower_id, Follow.target_id == target_id)
    return (await session.scalars(query)).first()


async def find_by_ap_id(session: AsyncSession, ap_id: str) -> Follow | None:
    return (await session.scalars(select(Follow).where(Follow.ap_id == ap_id))).first()


async def is_blocked_between(session: AsyncSession, first_id: int, second_id: int) -> bool:
    """Whether either actor blocks the other; a block ends and forbids follows both ways."""
    query = select(Block.id).where(((Block.actor_id == first_id) & (Block.target_id == second_id))
                                   | ((Block.actor_id == second_id) & (Block.target_id == first_id)))
    return await session.scalar(query) is not None


async def _hides_domain(session: AsyncSession, actor_id: int, domain: str) -> bool:
    """Whether the actor blocks this server (its own domain_blocks row; see local/domain_blocks.py)."""
    if not domain:
        return False
    query = select(DomainBlock.id).where(DomainBlock.actor_id == actor_id, DomainBlock.domain == domain)
    return await session.scalar(query) is not None


async def request(session: AsyncSession, urls: LocalUrls, follower: Actor, target: Actor, *, now: datetime) -> Follow:
    """A local actor follows someone: at once for open local accounts, else pending until accepted."""
    if follower.id == target.id:
        raise NotAllowed("you cannot follow yourself")
    if await is_blocked_between(session, follower.id, target.id):
        raise NotAllowed("a block stands between these accounts")
    if await _hides_domain(session, follower.id, target.domain):
        raise NotAllowed("you block the server of this account")  # Mastodon's FollowService
    refusal = await group_admission.join_refusal(session, follower, target)
    if refusal is not None:
        raise NotAllowed(refusal)
    existing = await find(session, follower.id, target.id)
    if existing is not None:
        return existing
    follow_id = new_id()
    follow = Follow(id=follow_id, follower_id=follower.id, target_id=target.id, state=PENDING,
                    ap_id=urls.activity(follower.username, follow_id), created_at=now)
    session.add(follow)
    await session.flush()
    if target.domain == "":
        await _arrive_locally(session, follow, follower, target, now)
    else:
        await publish(session, activities.build_follow(follow.ap_id or "", follower.ap_id, target.ap_id),
                      inbox_urls=[target.inbox_url])
    return follow


async def _arrive_locally(session: AsyncSession, follow: Follow, follower: Actor, target: Actor, now: datetime) -> None:
    if target.manually_approves_followers:
        await notifications.notify(session, target, "follow_request", follower, now=now)
    else:
        follow.state = ACCEPTED
        await notifications.notify(session, target, "follow", follower, now=now)


async def receive(session: AsyncSession, urls: LocalUrls, follower: Actor, target: Actor, activity_ap_id: str,
                  *, now: datetime) -> Follow | None:
    """A remote Follow of a local actor: Accept at once, hold it for approval, or Reject after a block."""
    if await is_blocked_between(session, follower.id, target.id) or await _hides_domain(
            session, target.id, follower.domain) or await group_admission.join_refusal(
            session, follower, target) is not None:  # a blocked server's Follow is rejected, as on Mastodon
        await _respond(session, urls, vocab.REJECT, target, follower, activity_ap_id)
        return None
    follow = await find(session, follower.id, target.id)
    if follow is None:
        follow = Follow(follower_id=follower.id, target_id=target.id, state=PENDING, ap_id=activity_ap_id,
                        created_at=now)
        session.add(follow)
        await session.flush()
    else:
        follow.ap_id = activity_ap_id  # a repeated Follow (the peer lost our Accept): answer it again
    if follow.state == ACCEPTED or not target.manually_approves_followers:
        newly = follow.state != ACCEPTED
        follow.state = ACCEPTED
        await _respond(session, urls, vocab.ACCEPT, target, follower, activity_ap_id)
        if newly:
            await notifications.notify(session, target, "follow", follower, now=now)
    else:
        await notifications.notify(session, target, "follow_request", follower, now=now)
    return follow


async def approve(session: AsyncSession, urls: LocalUrls, follow: Follow, *, now: datetime) -> None:
    """A local actor accepts a pending follow request."""
    target, follower = await _pair(session, follow)
    follow.state = ACCEPTED
    await notifications.withdraw(session, target.id, "follow_request", follower.id)
    if follower.domain != "":
        await _respond(session, urls, vocab.ACCEPT, target, follower, follow.ap_id or "")


async def refuse(session: AsyncSession, urls: LocalUrls, follow: Follow, *, now: datetime) -> None:
    """A local actor rejects a follow request (or removes a follower)."""
    target, follower = await _pair(session, follow)
    await session.execute(delete(Follow).where(Follow.id == follow.id))
    await notifications.withdraw(session, target.id, "follow_request", follower.id)
    if follower.domain != "":
        await _respond(session, urls, vocab.REJECT, target, follower, follow.ap_id or "")


async def end(session: AsyncSession, urls: LocalUrls, follower: Actor, target: Actor, *, now: datetime) -> None:
    """A local actor unfollows; a remote target gets Undo{Follow}."""
    follow = await find(session, follower.id, target.id)
    if follow is None:
        return
    await session.execute(delete(Follow).where(Follow.id == follow.id))
    await notifications.withdraw(session, target.id, "follow", follower.id)
    await notifications.withdraw(session, target.id, "follow_request", follower.id)  # a withdrawn request
    if target.domain != "":
        undone = activities.build_follow(follow.ap_id or "", follower.ap_id, target.ap_id)
        await publish(session, activities.build_undo(urls.activity(follower.username, new_id()), follower.ap_id,
                                                     undone), inbox_urls=[target.inbox_url])


async def accepted_remotely(session: AsyncSession, follower: Actor, target: Actor) -> bool:
    """The remote target accepted our follow; False when there was nothing pending."""
    follow = await find(session, follower.id, target.id)
    if follow is None:
        return False
    follow.state = ACCEPTED
    return True


async def forget(session: AsyncSession, follower: Actor, target: Actor) -> bool:
    """A follow ended from the other side (Reject, or Undo{Follow} by a remote follower)."""
    follow = await find(session, follower.id, target.id)
    if follow is None:
        return False
    await session.execute(delete(Follow).where(Follow.id == follow.id))
    await notifications.withdraw(session, target.id, "follow", follower.id)
    await notifications.withdraw(session, target.id, "follow_request", follower.id)
    return True


async def _respond(session: AsyncSession, urls: LocalUrls, kind: str, target: Actor, follower: Actor,
                   follow_ap_id: str) -> None:
    follow: dict[str, Any] = {"id": follow_ap_id, "type": vocab.FOLLOW, "actor": follower.ap_id,
                              "object": target.ap_id}
    activity = activities.build_response(kind, urls.activity(target.username, new_id()), target.ap_id, follow)
    await publish(session, activity, inbox_urls=[follower.inbox_url])


async def _pair(session: AsyncSession, follow: Follow) -> tuple[Actor, Actor]:
    target = await session.get(Actor, follow.target_id)
    follower = await session.get(Actor, follow.follower_id)
    assert target is not None and follower is not None
    return target, follower


async def count_followers(session: AsyncSession, actor_id: int) -> int:
    """Accepted followers of an actor."""
    query = select(func.count(Follow.id)).where(Follow.target_id == actor_id, Follow.state == ACCEPTED)
    return int(await session.scalar(query) or 0)


async def count_following(session: AsyncSession, actor_id: int) -> int:
    """Actors this actor follows (accepted)."""
    query = select(func.count(Follow.id)).where(Follow.follower_id == actor_id, Follow.state == ACCEPTED)
    return int(await session.scalar(query) or 0)


async def followers_page(session: AsyncSession, actor_id: int, *, offset: int, limit: int) -> list[str]:
    """IRIs of accepted followers, newest follow first."""
    query = (select(Actor.ap_id).join(Follow, Follow.follower_id == Actor.id)
             .where(Follow.target_id == actor_id, Follow.state == ACCEPTED)
             .order_by(Follow.id.desc()).offset(offset).limit(limit))
    return list((await session.scalars(query)).all())


async def following_page(session: AsyncSession, actor_id: int, *, offset: int, limit: int) -> list[str]:
    """IRIs of the actors this actor follows, newest follow first."""
    query = (select(Actor.ap_id).join(Follow, Follow.target_id == Actor.id)
             .where(Follow.follower_id == actor_id, Follow.state == ACCEPTED)
             .order_by(Follow.id.desc()).offset(offset).limit(limit))
    return list((await session.scalars(query)).all())


async def remote_inboxes_of_followers(session: AsyncSession, actor_id: int) -> list[tuple[str, str | None]]:
    """(inbox, shared inbox) of every remote accepted follower: the audience of a followers post."""
    query = (select(Actor.inbox_url, Actor.shared_inbox_url).join(Follow, Follow.follower_id == Actor.id)
             .where(Follow.target_id == actor_id, Follow.state == ACCEPTED, Actor.domain != ""))
    return [(row.inbox_url, row.shared_inbox_url) for row in (await session.execute(query)).all()]


async def drop_gone_followers(session: AsyncSession, inbox_urls: list[str]) -> int:
    """Remote followers whose personal inbox answered 410 Gone no longer exist: forget their follows."""
    if not inbox_urls:
        return 0
    gone = select(Actor.id).where(Actor.domain != "", Actor.inbox_url.in_(inbox_urls))
    result = await session.execute(delete(Follow).where(Follow.follower_id.in_(gone)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
