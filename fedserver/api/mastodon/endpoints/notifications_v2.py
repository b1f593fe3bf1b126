"""Grouped notifications (docs.joinmastodon.org/methods/grouped_notifications, Mastodon 4.3's API v2):
the list, one group, dismissing a group, the accounts in a group, the unread count of groups."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.routing import Route

from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.api.mastodon.endpoints.notifications import account_id_of
from fedserver.api.mastodon.entities.account import render_accounts
from fedserver.api.mastodon.entities.notification_group import render_grouped
from fedserver.api.mastodon.pagination import link_header, page_of
from fedserver.local import markers, notification_groups
from fedserver.local.models.actors import Actor
from fedserver.local.notifications import GROUPED_KINDS

EXPAND = ("full", "partial_avatars")


def _narrowing(call: Call) -> notification_groups.Narrowing:
    grouped = [kind for kind in call.ids("grouped_types") if kind in GROUPED_KINDS]
    return notification_groups.Narrowing(types=call.ids("types"), exclude_types=call.ids("exclude_types"),
                                         from_actor_id=account_id_of(call), grouped_types=grouped or GROUPED_KINDS)


def _partial_avatars(call: Call) -> bool:
    expand = call.text("expand_accounts") or "full"
    if expand not in EXPAND:
        raise ApiError(400, "Invalid value for 'expand_accounts': use full or partial_avatars")
    return expand == "partial_avatars"


@endpoint(scope="read:notifications", user=True)
async def index(call: Call) -> dict[str, Any]:
    """Groups of the signed-in account's notifications, newest first; include_filtered is accepted (we keep
    no filtered notifications: there are no notification policies here)."""
    partial_avatars = _partial_avatars(call)
    groups = await notification_groups.page(call.session, call.me.actor_id, page_of(call, default=40, maximum=80),
                                            _narrowing(call))
    link_header(call, [group.latest.id for group in groups])
    return await render_grouped(call.session, call.site.urls, groups, call.me.actor, call.me.id,
                                partial_avatars=partial_avatars)


@endpoint(scope="read:notifications", user=True)
async def show(call: Call) -> dict[str, Any]:
    """One group by its group_key, in the same shape as the list."""
    group = await notification_groups.find(call.session, call.me.actor_id, call.request.path_params["group_key"])
    return await render_grouped(call.session, call.site.urls, [group], call.me.actor, call.me.id)


@endpoint(scope="write:notifications", user=True, write=True)
async def dismiss(call: Call) -> dict[str, Any]:
    """Delete every notification of the group."""
    await notification_groups.dismiss(call.session, call.me.actor_id, call.request.path_params["group_key"])
    return {}


@endpoint(scope="read:notifications", user=True)
async def accounts(call: Call) -> list[dict[str, Any]]:
    """Who caused the group's notifications, newest first, paged with a Link header."""
    rows = await notification_groups.accounts(call.session, call.me.actor_id, call.request.path_params["group_key"],
                                              page_of(call, default=40, maximum=80))
    link_header(call, [notification_id for notification_id, _actor_id in rows])
    actors = (await call.session.scalars(select(Actor).where(Actor.id.in_({actor_id for _n, actor_id in rows})))).all()
    rendered = await render_accounts(call.session, call.site.urls, actors)
    return [rendered[actor_id] for _n, actor_id in rows if actor_id in rendered]


@endpoint(scope="read:notifications", user=True)
async def unread_count(call: Call) -> dict[str, Any]:
    """How many groups have notifications after the notifications marker (up to limit, 100 by default)."""
    limit = page_of(call, default=100, maximum=1000).limit
    marker = await markers.last_read(call.session, call.me.id, "notifications")
    return {"count": await notification_groups.count_unread(call.session, call.me.actor_id, marker, limit=limit,
                                                            narrowing=_narrowing(call))}


ROUTES = [
    Route("/api/v2/notifications", index),
    Route("/api/v2/notifications/unread_count", unread_count),
    Route("/api/v2/notifications/{group_key}", show),
    Route("/api/v2/notifications/{group_key}/dismiss", dismiss, methods=["POST"]),
    Route("/api/v2/notifications/{group_key}/accounts", accounts),
]
