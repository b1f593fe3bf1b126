"""Filters v1 (docs.joinmastodon.org/methods/filters, v1 section): each v1 filter is one keyword of a v2
filter, as Mastodon 4 maps them; phrase, context[], irreversible (hide), whole_word, expires_in."""
from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fedserver.api.mastodon.call import Call, endpoint
from fedserver.api.mastodon.endpoints.filters import expires_at_of
from fedserver.api.mastodon.entities.filter import render_v1_filter
from fedserver.local import filters


@endpoint(scope="read:filters", user=True)
async def index(call: Call) -> list[dict[str, Any]]:
    """Every keyword of the signed-in account's filters, each as a v1 filter."""
    return [render_v1_filter(keyword, owner)
            for keyword, owner in await filters.keywords_with_filters(call.session, call.me.id)]


@endpoint(scope="write:filters", user=True, write=True)
async def create(call: Call) -> dict[str, Any]:
    """A new v2 filter titled with the phrase, holding it as its one keyword."""
    keyword, owner = await filters.create_v1(
        call.session, call.me.id, phrase=call.text("phrase"), contexts=call.ids("context"),
        irreversible=call.flag("irreversible"), whole_word=call.flag("whole_word", True),
        expires_at=expires_at_of(call))
    return render_v1_filter(keyword, owner)


@endpoint(scope="read:filters", user=True)
async def show(call: Call) -> dict[str, Any]:
    return render_v1_filter(*await filters.find_own_v1(call.session, call.me.id, call.path_id()))


@endpoint(scope="write:filters", user=True, write=True)
async def update(call: Call) -> dict[str, Any]:
    """Change the keyword; the filter's title, context, action and expiry only when it has no other keyword."""
    keyword, owner = await filters.find_own_v1(call.session, call.me.id, call.path_id())
    given = call.params
    changes = filters.FilterChanges(
        phrase=call.text("phrase") if given.get("phrase") is not None else None,
        contexts=call.ids("context") if "context" in given else None,
        irreversible=call.flag("irreversible") if given.get("irreversible") not in (None, "") else None,
        has_expiry="expires_in" in given, expires_at=expires_at_of(call))
    whole_word = call.flag("whole_word") if given.get("whole_word") not in (None, "") else None
    await filters.update_v1(call.session, keyword, owner, changes, whole_word=whole_word)
    return render_v1_filter(keyword, owner)


@endpoint(scope="write:filters", user=True, write=True)
async def destroy(call: Call) -> dict[str, Any]:
    """Delete the keyword (its v2 filter stays, as on Mastodon)."""
    keyword, _owner = await filters.find_own_v1(call.session, call.me.id, call.path_id())
    await filters.remove_keyword(call.session, keyword)
    return {}


ROUTES = [
    Route("/api/v1/filters", index, methods=["GET"]),
    Route("/api/v1/filters", create, methods=["POST"]),
    Route("/api/v1/filters/{id}", show, methods=["GET"]),
    Route("/api/v1/filters/{id}", update, methods=["PUT"]),
    Route("/api/v1/filters/{id}", destroy, methods=["DELETE"]),
]
