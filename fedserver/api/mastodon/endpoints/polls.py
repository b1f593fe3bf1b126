"""Polls endpoints (docs.joinmastodon.org/methods/polls): read a poll, vote once."""
from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.api.mastodon.endpoints.statuses import NOT_FOUND, viewer_of
from fedserver.api.mastodon.entities.poll import render_poll
from fedserver.local import poll_votes, polls
from fedserver.local.errors import Invalid, NotFound
from fedserver.local.models.polls import Poll
from fedserver.local.models.statuses import Status
from fedserver.local.visibility import can_see


async def _visible_poll(call: Call) -> tuple[Poll, Status]:
    """The poll in the path, if the caller may see its status (404 otherwise)."""
    try:
        poll, status = await polls.find(call.session, call.path_id())
    except NotFound:
        raise ApiError(404, NOT_FOUND) from None
    if not await can_see(call.session, viewer_of(call), status):
        raise ApiError(404, NOT_FOUND)
    return poll, status


@endpoint(scope="read:statuses", public=True)
async def show(call: Call) -> dict[str, Any]:
    poll, status = await _visible_poll(call)
    return await render_poll(call.session, poll, status, viewer_of(call), call.now)


@endpoint(scope="write:statuses", user=True, write=True)
async def vote(call: Call) -> dict[str, Any]:
    """choices[]: the positions chosen (one, or several in a multiple choice poll); answers with the poll."""
    poll, status = await _visible_poll(call)
    try:
        choices = [int(choice) for choice in call.ids("choices")]
    except ValueError:
        raise Invalid("choices", "ERR_INVALID", "The chosen vote option does not exist") from None
    await poll_votes.vote(call.session, call.site.urls, call.me.actor, poll, status, choices, now=call.now)
    return await render_poll(call.session, poll, status, viewer_of(call), call.now)


ROUTES = [
    Route("/api/v1/polls/{id}", show, methods=["GET"]),
    Route("/api/v1/polls/{id}/votes", vote, methods=["POST"]),
]
