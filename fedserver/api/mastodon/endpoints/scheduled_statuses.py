"""Scheduled statuses (docs.joinmastodon.org/methods/scheduled_statuses): list, look at, move and cancel
posts kept for later. Scheduling one is POST /api/v1/statuses with scheduled_at (statuses.py)."""
from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fedserver.api.mastodon.call import Call, endpoint
from fedserver.api.mastodon.entities.scheduled_status import render_scheduled_status
from fedserver.api.mastodon.pagination import link_header, page_of
from fedserver.local import scheduled_statuses
from fedserver.local.errors import Invalid
from fedserver.local.models.scheduling import ScheduledStatus


async def _render(call: Call, row: ScheduledStatus) -> dict[str, Any]:
    media = await scheduled_statuses.media_of(call.session, [row.id])
    return render_scheduled_status(call.site.urls, row, media[row.id])


@endpoint(scope="read:statuses", user=True)
async def index(call: Call) -> list[dict[str, Any]]:
    """The signed-in account's scheduled statuses, newest first, paged by id with a Link header."""
    rows = await scheduled_statuses.page(call.session, call.me.id, page_of(call, default=20, maximum=40))
    link_header(call, [row.id for row in rows])
    media = await scheduled_statuses.media_of(call.session, [row.id for row in rows])
    return [render_scheduled_status(call.site.urls, row, media[row.id]) for row in rows]


@endpoint(scope="read:statuses", user=True)
async def show(call: Call) -> dict[str, Any]:
    """One of the signed-in account's scheduled statuses."""
    return await _render(call, await scheduled_statuses.find_own(call.session, call.me.id, call.path_id()))


@endpoint(scope="write:statuses", user=True, write=True)
async def update(call: Call) -> dict[str, Any]:
    """PUT: move it to another scheduled_at (at least five minutes ahead)."""
    row = await scheduled_statuses.find_own(call.session, call.me.id, call.path_id())
    raw = (call.text("scheduled_at") or "").strip()
    if not raw:
        raise Invalid("scheduled_at", "ERR_BLANK", "scheduled_at can't be blank")
    await scheduled_statuses.reschedule(call.session, row, scheduled_statuses.parse_time(raw), now=call.now)
    return await _render(call, row)


@endpoint(scope="write:statuses", user=True, write=True)
async def destroy(call: Call) -> dict[str, Any]:
    """Cancel a scheduled status; its media stay as unattached uploads."""
    await scheduled_statuses.cancel(call.session, await scheduled_statuses.find_own(call.session, call.me.id,
                                                                                    call.path_id()))
    return {}


ROUTES = [
    Route("/api/v1/scheduled_statuses", index, methods=["GET"]),
    Route("/api/v1/scheduled_statuses/{id}", show, methods=["GET"]),
    Route("/api/v1/scheduled_statuses/{id}", update, methods=["PUT"]),
    Route("/api/v1/scheduled_statuses/{id}", destroy, methods=["DELETE"]),
]
