"""Markers (docs.joinmastodon.org/methods/markers): where the reader stopped, shared between apps."""
from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.api.mastodon.entities.status import timestamp
from fedserver.ids import InvalidId, parse_id
from fedserver.local import markers
from fedserver.local.models.clients import Marker


def _render(marker: Marker) -> dict[str, Any]:
    return {"last_read_id": str(marker.last_read_id), "version": marker.version,
            "updated_at": timestamp(marker.updated_at)}


@endpoint(scope="read:statuses", user=True)
async def index(call: Call) -> dict[str, Any]:
    """The markers asked for with timeline[] (home, notifications) that exist."""
    found = await markers.read(call.session, call.me.id, call.ids("timeline"))
    return {timeline: _render(marker) for timeline, marker in found.items()}


@endpoint(scope="write:statuses", user=True, write=True)
async def save(call: Call) -> dict[str, Any]:
    """Move the markers given as home[last_read_id] and notifications[last_read_id]; returns those moved."""
    saved = {}
    for timeline in markers.TIMELINES:
        given = call.params.get(timeline)
        if not isinstance(given, dict) or given.get("last_read_id") in (None, ""):
            continue
        try:
            last_read_id = parse_id(str(given["last_read_id"]), "last_read_id")
        except InvalidId as exc:
            raise ApiError(400, str(exc)) from None
        saved[timeline] = _render(await markers.save(call.session, call.me.id, timeline, last_read_id,
                                                     now=call.now))
    return saved


ROUTES = [
    Route("/api/v1/markers", index, methods=["GET"]),
    Route("/api/v1/markers", save, methods=["POST"]),
]
