"""Paged lists around accounts: an account's statuses, followers and following; one's blocks, mutes and
domain blocks (docs.joinmastodon.org/methods/accounts, blocks, mutes, domain_blocks, follow_requests).
Newest first, paged by the id of the row that links them, with Mastodon's Link header."""
from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.api.mastodon.entities.account import render_account_list, render_accounts
from fedserver.api.mastodon.entities.filter import is_hidden
from fedserver.api.mastodon.entities.status import render_statuses
from fedserver.api.mastodon.pagination import link_header, page_of
from fedserver.local import account_lookup, account_statuses, blocks, domain_blocks, preferences
from fedserver.local.models.actors import Actor

ACCOUNTS_PAGE = {"default": 40, "maximum": 80}  # Mastodon's DEFAULT_ACCOUNTS_LIMIT and its maximum


@endpoint(scope="read:statuses", public=True)
async def statuses(call: Call) -> list[dict[str, Any]]:
    """The account's posts and boosts the caller may see: pinned, exclude_replies, exclude_reblogs,
    only_media and tagged narrow them."""
    author = await account_lookup.find_shown(call.session, call.path_id())
    viewer = call.account.actor if call.account is not None else None
    page = page_of(call)
    found = await account_statuses.of_account(
        call.session, author, viewer, page, pinned=call.flag("pinned"), exclude_replies=call.flag("exclude_replies"),
        exclude_reblogs=call.flag("exclude_reblogs"), only_media=call.flag("only_media"), tagged=call.text("tagged"))
    link_header(call, [status.id for status in found])
    rendered = await render_statuses(call.session, call.site.urls, found, viewer,
                                     call.account.id if call.account is not None else None, filter_context="account")
    return [entity for entity in rendered if not is_hidden(entity)]


async def _collection_hidden(call: Call, owner: Actor) -> bool:
    """Mastodon shows nothing of an account's follows to someone it blocks, nor to anyone else when the
    account hides its collections (hide_collections)."""
    if call.account is not None and call.account.actor_id == owner.id:
        return False
    if await preferences.hides_collections(call.session, owner.id):
        return True
    return call.account is not None and await blocks.find(call.session, owner.id, call.account.actor.id) is not None


@endpoint(scope="read:accounts", public=True)
async def followers(call: Call) -> list[dict[str, Any]]:
    """Accounts that follow :id, newest follow first."""
    owner = await account_lookup.find_shown(call.session, call.path_id())
    if await _collection_hidden(call, owner):
        return []
    return await _accounts(call, await account_lookup.followers(call.session, owner.id, page_of(call, **ACCOUNTS_PAGE)))


@endpoint(scope="read:accounts", public=True)
async def following(call: Call) -> list[dict[str, Any]]:
    """Accounts that :id follows, newest follow first."""
    owner = await account_lookup.find_shown(call.session, call.path_id())
    if await _collection_hidden(call, owner):
        return []
    return await _accounts(call, await account_lookup.following(call.session, owner.id, page_of(call, **ACCOUNTS_PAGE)))


@endpoint(scope="read:follows", user=True)
async def follow_requests(call: Call) -> list[dict[str, Any]]:
    """Accounts waiting for the signed-in account to accept their follow."""
    page = page_of(call, **ACCOUNTS_PAGE)
    return await _accounts(call, await account_lookup.follow_requests(call.session, call.me.actor.id, page))


@endpoint(scope="read:blocks", user=True)
async def blocked(call: Call) -> list[dict[str, Any]]:
    """GET /api/v1/blocks: the accounts the signed-in account blocks."""
    page = page_of(call, **ACCOUNTS_PAGE)
    return await _accounts(call, await account_lookup.blocked(call.session, call.me.actor.id, page))


@endpoint(scope="read:mutes", user=True)
async def muted(call: Call) -> list[dict[str, Any]]:
    """GET /api/v1/mutes: muted accounts, each with `mute_expires_at` (Mastodon 4.1)."""
    rows = await account_lookup.muted(call.session, call.me.actor.id, page_of(call, **ACCOUNTS_PAGE), now=call.now)
    link_header(call, [row[0].id for row in rows])
    rendered = await render_accounts(call.session, call.site.urls, [actor for _mute, actor in rows])
    return [{**rendered[actor.id], "mute_expires_at": _time(mute.expires_at)} for mute, actor in rows]


def _time(moment: Any) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


async def _accounts(call: Call, rows: list[tuple[int, Actor]]) -> list[dict[str, Any]]:
    link_header(call, [link_id for link_id, _actor in rows])
    return await render_account_list(call.session, call.site.urls, [actor for _link_id, actor in rows])


@endpoint(scope="read:blocks", user=True)
async def domain_blocks_list(call: Call) -> list[str]:
    """GET /api/v1/domain_blocks: the servers hidden from the signed-in account, as plain strings."""
    rows = await account_lookup.blocked_domains(call.session, call.me.actor.id, page_of(call, default=100, maximum=200))
    link_header(call, [row_id for row_id, _domain in rows])
    return [domain for _row_id, domain in rows]


@endpoint(scope="write:blocks", user=True, write=True)
async def domain_block(call: Call) -> dict[str, Any]:
    """POST domain=: hide a server; its followers of this account are removed."""
    await domain_blocks.block(call.session, call.site.urls, call.me.actor, _domain(call), now=call.now)
    return {}


@endpoint(scope="write:blocks", user=True, write=True)
async def domain_unblock(call: Call) -> dict[str, Any]:
    """DELETE domain=: show a server again."""
    await domain_blocks.unblock(call.session, call.site.urls, call.me.actor, _domain(call))
    return {}


def _domain(call: Call) -> str:
    domain = (call.text("domain") or "").strip()
    if not domain:
        raise ApiError(400, "Param is missing or the value is empty: domain")
    return domain


ROUTES = [
    Route("/api/v1/accounts/{id:int}/statuses", statuses),
    Route("/api/v1/accounts/{id:int}/followers", followers),
    Route("/api/v1/accounts/{id:int}/following", following),
    Route("/api/v1/follow_requests", follow_requests),
    Route("/api/v1/blocks", blocked),
    Route("/api/v1/mutes", muted),
    Route("/api/v1/domain_blocks", domain_blocks_list),
    Route("/api/v1/domain_blocks", domain_block, methods=["POST"]),
    Route("/api/v1/domain_blocks", domain_unblock, methods=["DELETE"]),
]
