"""Notifications (docs.joinmastodon.org/methods/notifications): list, get, dismiss, clear, unread count."""
from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.api.mastodon.entities.notification import render_notifications
from fedserver.api.mastodon.pagination import link_header, page_of
from fedserver.ids import InvalidId, parse_id
from fedserver.local import markers, notifications


def account_id_of(call: Call) -> int | None:
    """account_id: only notifications caused by this account."""
    raw = call.text("account_id")
    if not raw:
        return None
    try:
        return parse_id(raw, "account_id")
    except InvalidId as exc:
        raise ApiError(400, str(exc)) from None


@endpoint(scope="read:notifications", user=True)
async def index(call: Call) -> list[dict[str, Any]]:
    """The signed-in account's notifications, newest first, narrowed by types[], exclude_types[], account_id."""
    me = call.me
    found = await notifications.page(call.session, me.actor_id, page_of(call, default=40, maximum=80),
                                     types=call.ids("types"), exclude_types=call.ids("exclude_types"),
                                     from_actor_id=account_id_of(call))
    link_header(call, [item.id for item in found])
    return await render_notifications(call.session, call.site.urls, found, me.actor, me.id)


@endpoint(scope="read:notifications", user=True)
async def show(call: Call) -> dict[str, Any]:
    """One notification of the signed-in account."""
    found = await notifications.find_own(call.session, call.me.actor_id, call.path_id())
    rendered = await render_notifications(call.session, call.site.urls, [found], call.me.actor, call.me.id)
    if not rendered:
        raise ApiError(404, "Record not found")
    return rendered[0]


@endpoint(scope="write:notifications", user=True, write=True)
async def dismiss(call: Call) -> dict[str, Any]:
    """Delete one notification."""
    await notifications.dismiss(call.session, call.me.actor_id, call.path_id())
    return {}


@endpoint(scope="write:notifications", user=True, write=True)
async def clear(call: Call) -> dict[str, Any]:
    """Delete every notification of the signed-in account."""
    await notifications.clear(call.session, call.me.actor_id)
    return {}


@endpoint(scope="read:notifications", user=True)
async def unread_count(call: Call) -> dict[str, Any]:
    """How many notifications arrived after the notifications marker (capped by limit, 100 by default)."""
    limit = page_of(call, default=100, maximum=1000).limit
    marker = await markers.last_read(call.session, call.me.id, "notifications")
    return {"count": await notifications.count_unread(call.session, call.me.actor_id, marker, limit=limit)}


ROUTES = [
    Route("/api/v1/notifications", index),
    Route("/api/v1/notifications/clear", clear, methods=["POST"]),
    Route("/api/v1/notifications/unread_count", unread_count),
    Route("/api/v1/notifications/{id}", show),
    Route("/api/v1/notifications/{id}/dismiss", dismiss, methods=["POST"]),
]
