"""Relationships (docs.joinmastodon.org/methods/accounts, follow_requests): follow, block, mute and their
undoing, each answering the Relationship entity; relationships and familiar followers for many accounts."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased
from starlette.routing import Route

from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.api.mastodon.entities.account import render_accounts
from fedserver.api.mastodon.entities.relationship import render_relationships
from fedserver.ids import InvalidId, parse_id
from fedserver.local import account_lookup, blocks, follows, mutes
from fedserver.local.errors import Invalid, NotFound
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import ACCEPTED, PENDING, Follow

MAX_IDS = 80  # how many accounts one relationships call may ask about


async def _target(call: Call) -> Actor:
    return await account_lookup.find_shown(call.session, call.path_id())


async def _relationship(call: Call, target: Actor) -> dict[str, Any]:
    return (await render_relationships(call.session, call.me.actor, [target], now=call.now))[0]


@endpoint(scope="write:follows", user=True, write=True)
async def follow(call: Call) -> dict[str, Any]:
    """Follow (at once, or a request for locked and remote accounts); again: change reblogs and notify."""
    target, me = await _target(call), call.me.actor
    if target.id == me.id:
        raise NotFound("Record not found")  # Mastodon's FollowService: following oneself is not possible
    row = await follows.request(call.session, call.site.urls, me, target, now=call.now)
    if call.params.get("reblogs") not in (None, ""):
        row.show_reblogs = call.flag("reblogs")
    if call.params.get("notify") not in (None, ""):
        row.notify = call.flag("notify")
    await call.session.flush()
    return await _relationship(call, target)


@endpoint(scope="write:follows", user=True, write=True)
async def unfollow(call: Call) -> dict[str, Any]:
    """End a follow or withdraw a request; a remote account's server gets Undo{Follow}."""
    target = await _target(call)
    await follows.end(call.session, call.site.urls, call.me.actor, target, now=call.now)
    return await _relationship(call, target)


@endpoint(scope="write:follows", user=True, write=True)
async def remove_from_followers(call: Call) -> dict[str, Any]:
    """Make someone stop following the signed-in account (a remote follower's server gets Reject)."""
    target = await _target(call)
    row = await follows.find(call.session, target.id, call.me.actor.id)
    if row is not None:
        await follows.refuse(call.session, call.site.urls, row, now=call.now)
    return await _relationship(call, target)


@endpoint(scope="write:blocks", user=True, write=True)
async def block(call: Call) -> dict[str, Any]:
    """Block: follows end both ways; a remote account's server gets Block. Blocking oneself does nothing."""
    target, me = await _target(call), call.me.actor
    if target.id != me.id:
        await blocks.block(call.session, call.site.urls, me, target, now=call.now)
    return await _relationship(call, target)


@endpoint(scope="write:blocks", user=True, write=True)
async def unblock(call: Call) -> dict[str, Any]:
    target = await _target(call)
    await blocks.unblock(call.session, call.site.urls, call.me.actor, target, now=call.now)
    return await _relationship(call, target)


@endpoint(scope="write:mutes", user=True, write=True)
async def mute(call: Call) -> dict[str, Any]:
    """Mute (notifications=false keeps their notifications; duration in seconds, 0 for no end)."""
    target, me = await _target(call), call.me.actor
    raw = call.text("duration") or "0"
    try:
        duration = int(raw)
    except ValueError:
        raise Invalid("duration", "ERR_INVALID", "duration is a number of seconds, 0 for no end") from None
    if target.id != me.id:  # as Mastodon's MuteService: muting oneself does nothing
        await mutes.mute(call.session, me, target, notifications=call.flag("notifications", True),
                         duration_seconds=duration, now=call.now)
    return await _relationship(call, target)


@endpoint(scope="write:mutes", user=True, write=True)
async def unmute(call: Call) -> dict[str, Any]:
    target = await _target(call)
    await mutes.unmute(call.session, call.me.actor, target)
    return await _relationship(call, target)


def _requested_ids(call: Call) -> list[int]:
    """id[]= as given, de-duplicated; strings that cannot be ids are skipped, as Mastodon skips unknown ids."""
    wanted = []
    for raw in call.ids("id")[:MAX_IDS]:
        try:
            wanted.append(parse_id(raw, "id"))
        except InvalidId:
            continue
    return list(dict.fromkeys(wanted))


@endpoint(scope="read:follows", user=True)
async def relationships(call: Call) -> list[dict[str, Any]]:
    """Relationships with each known account of id[] (unknown ids are left out), in the order asked."""
    wanted = _requested_ids(call)
    found = await account_lookup.shown_by_ids(call.session, wanted)
    targets = [found[actor_id] for actor_id in wanted if actor_id in found]
    return await render_relationships(call.session, call.me.actor, targets, now=call.now)


@endpoint(scope="read:follows", user=True)
async def familiar_followers(call: Call) -> list[dict[str, Any]]:
    """For each account of id[]: the accounts the viewer follows that follow it too."""
    wanted = _requested_ids(call)
    found = await account_lookup.shown_by_ids(call.session, wanted)
    mine = aliased(Follow)
    rows = (await call.session.execute(
        select(Follow.target_id, Actor).join(Actor, Actor.id == Follow.follower_id)
        .join(mine, (mine.target_id == Follow.follower_id) & (mine.follower_id == call.me.actor.id)
              & (mine.state == ACCEPTED))
        .where(Follow.target_id.in_(list(found)), Follow.state == ACCEPTED, account_lookup.shown())
        .order_by(Follow.id.desc()))).all()
    rendered = await render_accounts(call.session, call.site.urls, [row[1] for row in rows])
    return [{"id": str(actor_id), "accounts": [rendered[row[1].id] for row in rows if row[0] == actor_id]}
            for actor_id in wanted if actor_id in found]


@endpoint(scope="write:follows", user=True, write=True)
async def authorize_request(call: Call) -> dict[str, Any]:
    """Accept the follow request of the account :id (a remote one's server gets Accept)."""
    requester, row = await _pending_request(call)
    await follows.approve(call.session, call.site.urls, row, now=call.now)
    return await _relationship(call, requester)


@endpoint(scope="write:follows", user=True, write=True)
async def reject_request(call: Call) -> dict[str, Any]:
    """Refuse the follow request of the account :id (a remote one's server gets Reject)."""
    requester, row = await _pending_request(call)
    await follows.refuse(call.session, call.site.urls, row, now=call.now)
    return await _relationship(call, requester)


async def _pending_request(call: Call) -> tuple[Actor, Follow]:
    requester = await _target(call)
    row = await follows.find(call.session, requester.id, call.me.actor.id)
    if row is None or row.state != PENDING:
        raise ApiError(404, "Record not found")
    return requester, row


ROUTES = [
    Route("/api/v1/accounts/relationships", relationships),
    Route("/api/v1/accounts/familiar_followers", familiar_followers),
    Route("/api/v1/accounts/{id:int}/follow", follow, methods=["POST"]),
    Route("/api/v1/accounts/{id:int}/unfollow", unfollow, methods=["POST"]),
    Route("/api/v1/accounts/{id:int}/remove_from_followers", remove_from_followers, methods=["POST"]),
    Route("/api/v1/accounts/{id:int}/block", block, methods=["POST"]),
    Route("/api/v1/accounts/{id:int}/unblock", unblock, methods=["POST"]),
    Route("/api/v1/accounts/{id:int}/mute", mute, methods=["POST"]),
    Route("/api/v1/accounts/{id:int}/unmute", unmute, methods=["POST"]),
    Route("/api/v1/follow_requests/{id:int}/authorize", authorize_request, methods=["POST"]),
    Route("/api/v1/follow_requests/{id:int}/reject", reject_request, methods=["POST"]),
]
