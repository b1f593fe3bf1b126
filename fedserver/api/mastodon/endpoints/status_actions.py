"""What a resident does to a status (docs.joinmastodon.org/methods/statuses): boost, favourite, bookmark,
pin, mute the conversation; and who boosted or favourited it. Each answers with the status as it now is."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.routing import Route

from fedserver.api.mastodon.call import Call, endpoint
from fedserver.api.mastodon.endpoints.statuses import render, viewer_of, visible_status
from fedserver.api.mastodon.entities.account import render_accounts
from fedserver.api.mastodon.pagination import link_header, page_of
from fedserver.local import bookmarks, boosts, interaction_lists, likes, pins, thread_mutes


@endpoint(scope="write:statuses", user=True, write=True)
async def reblog(call: Call) -> dict[str, Any]:
    """Boost a public or unlisted status (visibility: public, unlisted or private for the boost itself)."""
    status = await visible_status(call, original=True)
    boost = await boosts.boost(call.session, call.site.urls, call.me.actor, status, now=call.now,
                               visibility=call.text("visibility") or None)
    return await render(call, boost)


@endpoint(scope="write:statuses", user=True, write=True)
async def unreblog(call: Call) -> dict[str, Any]:
    """Take a boost back; answers with the boosted status."""
    status = await visible_status(call, original=True)
    await boosts.unboost(call.session, call.site.urls, call.me.actor, status, now=call.now)
    return await render(call, status)


@endpoint(scope="write:favourites", user=True, write=True)
async def favourite(call: Call) -> dict[str, Any]:
    status = await visible_status(call, original=True)
    await likes.like(call.session, call.site.urls, call.me.actor, status, now=call.now)
    return await render(call, status)


@endpoint(scope="write:favourites", user=True, write=True)
async def unfavourite(call: Call) -> dict[str, Any]:
    status = await visible_status(call, original=True)
    await likes.unlike(call.session, call.site.urls, call.me.actor, status, now=call.now)
    return await render(call, status)


@endpoint(scope="write:bookmarks", user=True, write=True)
async def bookmark(call: Call) -> dict[str, Any]:
    status = await visible_status(call, original=True)
    await bookmarks.bookmark(call.session, call.me.actor, status)
    return await render(call, status)


@endpoint(scope="write:bookmarks", user=True, write=True)
async def unbookmark(call: Call) -> dict[str, Any]:
    status = await visible_status(call, original=True)
    await bookmarks.unbookmark(call.session, call.me.actor, status)
    return await render(call, status)


@endpoint(scope="write:accounts", user=True, write=True)
async def pin(call: Call) -> dict[str, Any]:
    """Feature an own public or unlisted post on the profile (five at most)."""
    status = await visible_status(call)
    await pins.pin(call.session, call.site.urls, call.me.actor, status)
    return await render(call, status)


@endpoint(scope="write:accounts", user=True, write=True)
async def unpin(call: Call) -> dict[str, Any]:
    status = await visible_status(call)
    await pins.unpin(call.session, call.site.urls, call.me.actor, status)
    return await render(call, status)


@endpoint(scope="write:mutes", user=True, write=True)
async def mute(call: Call) -> dict[str, Any]:
    """No more notifications from this conversation."""
    status = await visible_status(call, original=True)
    await thread_mutes.mute(call.session, call.me, status)
    return await render(call, status)


@endpoint(scope="write:mutes", user=True, write=True)
async def unmute(call: Call) -> dict[str, Any]:
    status = await visible_status(call, original=True)
    await thread_mutes.unmute(call.session, call.me, status)
    return await render(call, status)


Lister = Callable[..., Awaitable[interaction_lists.Page]]


async def _accounts(call: Call, lister: Lister) -> list[dict[str, Any]]:
    """A page of accounts, newest interaction first, with the Link header paging by the interaction's id."""
    status = await visible_status(call, original=True)
    rows = await lister(call.session, status, viewer_of(call), page_of(call, default=40, maximum=80), now=call.now)
    link_header(call, [row_id for row_id, _actor in rows])
    entities = await render_accounts(call.session, call.site.urls, [actor for _row_id, actor in rows])
    return [entities[actor.id] for _row_id, actor in rows]


@endpoint(scope="read:accounts", public=True)
async def reblogged_by(call: Call) -> list[dict[str, Any]]:
    return await _accounts(call, interaction_lists.boosters)


@endpoint(scope="read:accounts", public=True)
async def favourited_by(call: Call) -> list[dict[str, Any]]:
    return await _accounts(call, interaction_lists.likers)


def _post(path: str, handler: Any) -> Route:
    return Route(f"/api/v1/statuses/{{id}}/{path}", handler, methods=["POST"])


ROUTES = [
    _post("reblog", reblog), _post("unreblog", unreblog),
    _post("favourite", favourite), _post("unfavourite", unfavourite),
    _post("bookmark", bookmark), _post("unbookmark", unbookmark),
    _post("pin", pin), _post("unpin", unpin),
    _post("mute", mute), _post("unmute", unmute),
    Route("/api/v1/statuses/{id}/reblogged_by", reblogged_by, methods=["GET"]),
    Route("/api/v1/statuses/{id}/favourited_by", favourited_by, methods=["GET"]),
]
