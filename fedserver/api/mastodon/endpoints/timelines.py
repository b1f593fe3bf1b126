"""Timelines (docs.joinmastodon.org/methods/timelines), bookmarks and favourites: newest first, paged by id."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import Route

from fedserver.api.mastodon.call import Call, endpoint
from fedserver.api.mastodon.entities.filter import is_hidden
from fedserver.api.mastodon.entities.status import render_statuses
from fedserver.api.mastodon.pagination import link_header, page_of
from fedserver.local import lists, timelines
from fedserver.local.models.statuses import Status


async def _render(call: Call, statuses: Sequence[Status], context: str | None,
                  link_ids: Sequence[int] | None = None,
                  boosted: Sequence[Status | None] = ()) -> list[dict[str, Any]]:
    """The page's Link header from the rows it read, then the entities minus those a `hide` filter removes;
    `boosted`: the originals the timeline query read along (followed-authors pages)."""
    link_header(call, list(link_ids) if link_ids is not None else [status.id for status in statuses])
    viewer = call.account.actor if call.account is not None else None
    rendered = await render_statuses(call.session, call.site.urls, statuses, viewer,
                                     call.account.id if call.account is not None else None, filter_context=context,
                                     originals={status.id: status for status in boosted if status is not None})
    return [entity for entity in rendered if not is_hidden(entity)]


@endpoint(scope="read:statuses", user=True)
async def home(call: Call) -> list[dict[str, Any]]:
    """Own posts and those of followed accounts (and their boosts), newest first."""
    entries = await timelines.home_entries(call.session, call.me.actor, call.me.id, page_of(call), now=call.now)
    return await _render(call, [status for status, _ in entries], "home", boosted=[boosted for _, boosted in entries])


@endpoint(scope="read:statuses", public=True)
async def public(call: Call) -> list[dict[str, Any]]:
    """Public posts here and from the servers we know; local=true, remote=true and only_media=true narrow it."""
    viewer = call.account.actor if call.account is not None else None
    statuses = await timelines.public(call.session, viewer, page_of(call), local=call.flag("local"),
                                      remote=call.flag("remote"), only_media=call.flag("only_media"), now=call.now)
    return await _render(call, statuses, "public")


@endpoint(scope="read:statuses", public=True)
async def tag(call: Call) -> list[dict[str, Any]]:
    """Public posts with the hashtag (or any[] of more), all of all[] and none of none[]."""
    viewer = call.account.actor if call.account is not None else None
    names = [str(call.request.path_params["hashtag"]).lstrip("#"), *call.ids("any")]
    statuses = await timelines.tag(call.session, viewer, page_of(call), names, every=call.ids("all"),
                                   none=call.ids("none"), local=call.flag("local"), remote=call.flag("remote"),
                                   only_media=call.flag("only_media"), now=call.now)
    return await _render(call, statuses, "public")


@endpoint(scope="read:lists", user=True)
async def list_timeline(call: Call) -> list[dict[str, Any]]:
    """Posts by the members of one of the viewer's lists."""
    owned = await lists.find_own(call.session, call.me.id, call.path_id("list_id"))
    entries = await timelines.list_timeline(call.session, call.me.actor, owned, page_of(call), now=call.now)
    return await _render(call, [status for status, _ in entries], "home", boosted=[boosted for _, boosted in entries])


@endpoint(scope="read:bookmarks", user=True)
async def bookmarks(call: Call) -> list[dict[str, Any]]:
    """The viewer's bookmarks, newest first; the Link header pages by the bookmark, as Mastodon does."""
    rows = await timelines.bookmarked(call.session, call.me.actor, page_of(call))
    return await _render(call, [row[1] for row in rows], None, [row[0] for row in rows])


@endpoint(scope="read:favourites", user=True)
async def favourites(call: Call) -> list[dict[str, Any]]:
    """What the viewer favourited, newest first; the Link header pages by the favourite, as Mastodon does."""
    rows = await timelines.favourited(call.session, call.me.actor, page_of(call))
    return await _render(call, [row[1] for row in rows], None, [row[0] for row in rows])


ROUTES = [
    Route("/api/v1/timelines/home", home),
    Route("/api/v1/timelines/public", public),
    Route("/api/v1/timelines/tag/{hashtag}", tag),
    Route("/api/v1/timelines/list/{list_id}", list_timeline),
    Route("/api/v1/bookmarks", bookmarks),
    Route("/api/v1/favourites", favourites),
]
