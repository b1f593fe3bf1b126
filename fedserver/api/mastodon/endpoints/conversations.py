"""Conversations (docs.joinmastodon.org/methods/conversations): direct posts grouped by thread."""
from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fedserver.api.mastodon.call import Call, endpoint
from fedserver.api.mastodon.entities.conversation import render_conversations
from fedserver.api.mastodon.pagination import link_header, page_of
from fedserver.local import conversations


@endpoint(scope="read:statuses", user=True)
async def index(call: Call) -> list[dict[str, Any]]:
    """The signed-in account's conversations; paged (and linked) by each one's latest status id, as Mastodon."""
    found = await conversations.page(call.session, call.me.actor, call.me.id, page_of(call))
    link_header(call, [item.last_status.id for item in found])
    return await render_conversations(call.session, call.site.urls, found, call.me.actor, call.me.id)


@endpoint(scope="write:conversations", user=True, write=True)
async def read(call: Call) -> dict[str, Any]:
    """Mark a conversation read."""
    found = await conversations.mark_read(call.session, call.me.actor, call.me.id, call.path_id(), now=call.now)
    return (await render_conversations(call.session, call.site.urls, [found], call.me.actor, call.me.id))[0]


@endpoint(scope="write:conversations", user=True, write=True)
async def remove(call: Call) -> dict[str, Any]:
    """Take a conversation off the list; its statuses stay."""
    await conversations.hide(call.session, call.me.actor, call.me.id, call.path_id(), now=call.now)
    return {}


ROUTES = [
    Route("/api/v1/conversations", index, methods=["GET"]),
    Route("/api/v1/conversations/{id}", remove, methods=["DELETE"]),
    Route("/api/v1/conversations/{id}/read", read, methods=["POST"]),
]
