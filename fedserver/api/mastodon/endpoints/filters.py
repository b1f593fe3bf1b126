"""Filters v2 (docs.joinmastodon.org/methods/filters): filters, their keywords and their statuses."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Route

from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.api.mastodon.entities.filter import render_filter, render_filter_status, render_keyword
from fedserver.ids import InvalidId, parse_id
from fedserver.local import filters
from fedserver.local.models.clients import Filter

_ATTRIBUTE = re.compile(r"keywords_attributes\[(\d*)\]\[(\w+)\]")
_TRUE = ("true", "1", "on", "yes", "t")


def _truthy(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value if isinstance(value, bool) else str(value).strip().lower() in _TRUE


async def _keywords_attributes(call: Call) -> list[dict[str, Any]]:
    """keywords_attributes as JSON (a list or {"0": {...}}), or as Rails form fields `[][keyword]`, `[0][keyword]`."""
    given = call.params.get("keywords_attributes")
    if isinstance(given, list):
        return [item for item in given if isinstance(item, dict)]
    if isinstance(given, dict) and given and all(isinstance(item, dict) for item in given.values()):
        return list(given.values())
    pairs: list[tuple[str, Any]] = list(call.request.query_params.multi_items())
    if call.request.headers.get("content-type", "").startswith(("application/x-www-form", "multipart/form-data")):
        pairs += list((await call.request.form()).multi_items())
    listed: list[dict[str, Any]] = []
    indexed: dict[str, dict[str, Any]] = {}
    for key, value in pairs:
        found = _ATTRIBUTE.fullmatch(key)
        if found is None:
            continue
        index, name = found.groups()
        if index:
            indexed.setdefault(index, {})[name] = value
            continue
        if not listed or name in listed[-1]:  # `[]` fields: a repeated name starts the next keyword
            listed.append({})
        listed[-1][name] = value
    return listed + [indexed[key] for key in sorted(indexed, key=int)]


def expires_at_of(call: Call) -> datetime | None:
    """expires_in (seconds from now) as a moment; none given: never."""
    raw = call.params.get("expires_in")
    if raw in (None, ""):
        return None
    try:
        return call.now + timedelta(seconds=int(str(raw)))
    except ValueError:
        raise ApiError(422, "Validation failed: Expires in is not a number") from None


def _id(value: Any) -> int:
    try:
        return parse_id(str(value), "id")
    except InvalidId:
        raise ApiError(404, "Record not found") from None


async def _render(session: AsyncSession, item: Filter) -> dict[str, Any]:
    keywords, statuses = await filters.rules_of(session, [item.id])
    return render_filter(item, keywords[item.id], statuses[item.id])


@endpoint(scope="read:filters", user=True)
async def index(call: Call) -> list[dict[str, Any]]:
    """Every filter of the signed-in account with its keywords and statuses."""
    found = await filters.all_of(call.session, call.me.id)
    keywords, statuses = await filters.rules_of(call.session, [item.id for item in found])
    return [render_filter(item, keywords[item.id], statuses[item.id]) for item in found]


@endpoint(scope="write:filters", user=True, write=True)
async def create(call: Call) -> dict[str, Any]:
    """A new filter: title, context[], filter_action, expires_in, keywords_attributes[]."""
    attributes = await _keywords_attributes(call)
    created = await filters.create(
        call.session, call.me.id, title=call.text("title"), contexts=call.ids("context"),
        action=call.text("filter_action"), expires_at=expires_at_of(call),
        keywords=[(str(item.get("keyword") or ""), _truthy(item.get("whole_word"), True)) for item in attributes])
    return await _render(call.session, created)


@endpoint(scope="read:filters", user=True)
async def show(call: Call) -> dict[str, Any]:
    return await _render(call.session, await filters.find_own(call.session, call.me.id, call.path_id()))


@endpoint(scope="write:filters", user=True, write=True)
async def update(call: Call) -> dict[str, Any]:
    """Change a filter; keywords_attributes with an id change or (_destroy) remove that keyword."""
    changed = await filters.find_own(call.session, call.me.id, call.path_id())
    await filters.update(call.session, changed, title=call.text("title"),
                         contexts=call.ids("context") if "context" in call.params else None,
                         action=call.text("filter_action"))
    if "expires_in" in call.params:
        await filters.set_expiry(call.session, changed, expires_at_of(call))
    for item in await _keywords_attributes(call):
        await _change_keyword(call, changed, item)
    return await _render(call.session, changed)


async def _change_keyword(call: Call, owner: Filter, item: dict[str, Any]) -> None:
    if item.get("id") in (None, ""):
        await filters.add_keyword(call.session, owner, str(item.get("keyword") or ""),
                                  _truthy(item.get("whole_word"), True))
        return
    keyword = await filters.find_own_keyword(call.session, call.me.id, _id(item["id"]))
    if keyword.filter_id != owner.id:
        raise ApiError(404, "Record not found")
    if _truthy(item.get("_destroy"), False):
        await filters.remove_keyword(call.session, keyword)
    else:
        await filters.update_keyword(call.session, keyword, keyword=item.get("keyword"),
                                     whole_word=_truthy(item["whole_word"], True) if "whole_word" in item else None)


@endpoint(scope="write:filters", user=True, write=True)
async def destroy(call: Call) -> dict[str, Any]:
    await filters.remove(call.session, await filters.find_own(call.session, call.me.id, call.path_id()))
    return {}


@endpoint(scope="read:filters", user=True)
async def keywords(call: Call) -> list[dict[str, Any]]:
    owner = await filters.find_own(call.session, call.me.id, call.path_id("filter_id"))
    found, _statuses = await filters.rules_of(call.session, [owner.id])
    return [render_keyword(keyword) for keyword in found[owner.id]]


@endpoint(scope="write:filters", user=True, write=True)
async def add_keyword(call: Call) -> dict[str, Any]:
    owner = await filters.find_own(call.session, call.me.id, call.path_id("filter_id"))
    return render_keyword(await filters.add_keyword(call.session, owner, call.text("keyword"),
                                                    call.flag("whole_word", True)))


@endpoint(scope="read:filters", user=True)
async def show_keyword(call: Call) -> dict[str, Any]:
    return render_keyword(await filters.find_own_keyword(call.session, call.me.id, call.path_id()))


@endpoint(scope="write:filters", user=True, write=True)
async def update_keyword(call: Call) -> dict[str, Any]:
    keyword = await filters.find_own_keyword(call.session, call.me.id, call.path_id())
    whole_word = call.flag("whole_word") if "whole_word" in call.params else None
    return render_keyword(await filters.update_keyword(call.session, keyword, keyword=call.text("keyword"),
                                                       whole_word=whole_word))


@endpoint(scope="write:filters", user=True, write=True)
async def remove_keyword(call: Call) -> dict[str, Any]:
    await filters.remove_keyword(call.session, await filters.find_own_keyword(call.session, call.me.id,
                                                                              call.path_id()))
    return {}


@endpoint(scope="read:filters", user=True)
async def statuses(call: Call) -> list[dict[str, Any]]:
    owner = await filters.find_own(call.session, call.me.id, call.path_id("filter_id"))
    _keywords, found = await filters.rules_of(call.session, [owner.id])
    return [render_filter_status(chosen) for chosen in found[owner.id]]


@endpoint(scope="write:filters", user=True, write=True)
async def add_status(call: Call) -> dict[str, Any]:
    owner = await filters.find_own(call.session, call.me.id, call.path_id("filter_id"))
    added = await filters.add_status(call.session, owner, _id(call.text("status_id")), call.me.actor_id)
    return render_filter_status(added)


@endpoint(scope="read:filters", user=True)
async def show_status(call: Call) -> dict[str, Any]:
    return render_filter_status(await filters.find_own_status(call.session, call.me.id, call.path_id()))


@endpoint(scope="write:filters", user=True, write=True)
async def remove_status(call: Call) -> dict[str, Any]:
    await filters.remove_status(call.session, await filters.find_own_status(call.session, call.me.id,
                                                                            call.path_id()))
    return {}


def _one(path: str, show_: Any, update_: Any | None, remove_: Any) -> list[Route]:
    routes = [Route(path, show_, methods=["GET"]), Route(path, remove_, methods=["DELETE"])]
    return routes + ([Route(path, update_, methods=["PUT"])] if update_ is not None else [])


ROUTES = [
    Route("/api/v2/filters", index, methods=["GET"]),
    Route("/api/v2/filters", create, methods=["POST"]),
    # Mastodon's own paths for one keyword or status, and the filter_keywords/filter_statuses spelling.
    *_one("/api/v2/filters/keywords/{id}", show_keyword, update_keyword, remove_keyword),
    *_one("/api/v2/filter_keywords/{id}", show_keyword, update_keyword, remove_keyword),
    *_one("/api/v2/filters/statuses/{id}", show_status, None, remove_status),
    *_one("/api/v2/filter_statuses/{id}", show_status, None, remove_status),
    Route("/api/v2/filters/{id}", show, methods=["GET"]),
    Route("/api/v2/filters/{id}", update, methods=["PUT"]),
    Route("/api/v2/filters/{id}", destroy, methods=["DELETE"]),
    Route("/api/v2/filters/{filter_id}/keywords", keywords, methods=["GET"]),
    Route("/api/v2/filters/{filter_id}/keywords", add_keyword, methods=["POST"]),
    Route("/api/v2/filters/{filter_id}/statuses", statuses, methods=["GET"]),
    Route("/api/v2/filters/{filter_id}/statuses", add_status, methods=["POST"]),
]
