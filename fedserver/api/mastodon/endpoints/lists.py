"""Lists (docs.joinmastodon.org/methods/lists): CRUD and members, who must be followed."""
from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.api.mastodon.entities.account import render_accounts
from fedserver.api.mastodon.entities.list import render_list
from fedserver.api.mastodon.pagination import link_header, page_of
from fedserver.ids import InvalidId, parse_id
from fedserver.local import lists


def _exclusive(call: Call) -> bool | None:
    return call.flag("exclusive") if call.params.get("exclusive") not in (None, "") else None


def _account_ids(call: Call) -> list[int]:
    try:
        return [parse_id(raw, "account_ids") for raw in call.ids("account_ids")]
    except InvalidId:
        raise ApiError(404, "Record not found") from None


@endpoint(scope="read:lists", user=True)
async def index(call: Call) -> list[dict[str, Any]]:
    """Every list of the signed-in account."""
    return [render_list(owned) for owned in await lists.all_of(call.session, call.me.id)]


@endpoint(scope="write:lists", user=True, write=True)
async def create(call: Call) -> dict[str, Any]:
    """A new list: title, replies_policy (followed, list, none), exclusive."""
    owned = await lists.create(call.session, call.me.id, call.text("title"), replies_policy=call.text("replies_policy"),
                               is_exclusive=bool(_exclusive(call)))
    return render_list(owned)


@endpoint(scope="read:lists", user=True)
async def show(call: Call) -> dict[str, Any]:
    return render_list(await lists.find_own(call.session, call.me.id, call.path_id()))


@endpoint(scope="write:lists", user=True, write=True)
async def update(call: Call) -> dict[str, Any]:
    """Rename a list or change its replies policy or exclusivity."""
    owned = await lists.find_own(call.session, call.me.id, call.path_id())
    await lists.update(call.session, owned, title=call.text("title"), replies_policy=call.text("replies_policy"),
                       is_exclusive=_exclusive(call))
    return render_list(owned)


@endpoint(scope="write:lists", user=True, write=True)
async def destroy(call: Call) -> dict[str, Any]:
    await lists.remove(call.session, await lists.find_own(call.session, call.me.id, call.path_id()))
    return {}


@endpoint(scope="read:lists", user=True)
async def members(call: Call) -> list[dict[str, Any]]:
    """The list's accounts, 40 a page (limit=0: all of them), paged by account id."""
    owned = await lists.find_own(call.session, call.me.id, call.path_id())
    everyone = call.text("limit") == "0"
    page = page_of(call, default=40, maximum=80)
    actors = await lists.members(call.session, owned, max_id=page.max_id, since_id=page.since_id,
                                 limit=None if everyone else page.limit)
    if not everyone:
        link_header(call, [actor.id for actor in actors])
    rendered = await render_accounts(call.session, call.site.urls, actors)
    return [rendered[actor.id] for actor in actors]


@endpoint(scope="write:lists", user=True, write=True)
async def add_members(call: Call) -> dict[str, Any]:
    """Add account_ids[] to the list; each must be followed by the list's owner."""
    owned = await lists.find_own(call.session, call.me.id, call.path_id())
    await lists.add(call.session, owned, call.me.actor, _account_ids(call))
    return {}


@endpoint(scope="write:lists", user=True, write=True)
async def remove_members(call: Call) -> dict[str, Any]:
    """Remove account_ids[] from the list."""
    owned = await lists.find_own(call.session, call.me.id, call.path_id())
    await lists.discard(call.session, owned, _account_ids(call))
    return {}


@endpoint(scope="read:lists", user=True)
async def containing(call: Call) -> list[dict[str, Any]]:
    """The signed-in account's lists that hold this account (GET /api/v1/accounts/:id/lists)."""
    return [render_list(owned) for owned in await lists.containing(call.session, call.me.id, call.path_id())]


ROUTES = [
    Route("/api/v1/lists", index, methods=["GET"]),
    Route("/api/v1/lists", create, methods=["POST"]),
    Route("/api/v1/lists/{id}", show, methods=["GET"]),
    Route("/api/v1/lists/{id}", update, methods=["PUT"]),
    Route("/api/v1/lists/{id}", destroy, methods=["DELETE"]),
    Route("/api/v1/lists/{id}/accounts", members, methods=["GET"]),
    Route("/api/v1/lists/{id}/accounts", add_members, methods=["POST"]),
    Route("/api/v1/lists/{id}/accounts", remove_members, methods=["DELETE"]),
    Route("/api/v1/accounts/{id}/lists", containing, methods=["GET"]),
]
