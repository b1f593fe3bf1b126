"""GET /api/v2/search (docs.joinmastodon.org/methods/search): accounts, statuses and hashtags.

With resolve=true a handle is looked up by WebFinger and an https URL is fetched (a post is stored
with its author), as Mastodon does; both need a signed-in user and run before any query of ours,
outside a transaction (STYLE.md: no network I/O inside one).
"""
from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from starlette.routing import Route

from fedserver.activitypub import extract, vocab
from fedserver.activitypub.convert.note import parse_note
from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.api.mastodon.entities.account import render_accounts
from fedserver.api.mastodon.entities.status import render_statuses
from fedserver.api.mastodon.entities.tag import render_tags
from fedserver.ids import InvalidId, parse_id
from fedserver.inbox import remote
from fedserver.inbox.context import InboxDeps
from fedserver.local import actors, remote_statuses, search
from fedserver.local.errors import LocalError
from fedserver.local.models.actors import Actor
from fedserver.local.models.statuses import Status
from fedserver.local.visibility import visible_to

log = logging.getLogger(__name__)

TYPES = ("accounts", "statuses", "hashtags")
DEFAULT_LIMIT, MAX_LIMIT = 20, 40
_HANDLE = re.compile(r"^@?[^@\s]+@[^@\s]+$")
# What a lookup on another server may raise: Gone (LookupError), PeerUnavailable (ConnectionError),
# MalformedObject and OriginMismatch (ValueError), the SSRF guard's NotAllowed (PermissionError).
_LOOKUP_FAILED = (LookupError, ConnectionError, ValueError, PermissionError, LocalError)


def _number(call: Call, name: str, default: int) -> int:
    raw = call.params.get(name)
    try:
        value = default if raw in (None, "") else int(str(raw))
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number") from None
    if value < 0:
        raise ApiError(400, "Pagination values for `offset` and `limit` must be positive")
    return value


def _optional_id(call: Call, name: str) -> int | None:
    raw = call.params.get(name)
    try:
        return None if raw in (None, "") else parse_id(str(raw), name)
    except InvalidId as exc:
        raise ApiError(400, str(exc)) from None


@endpoint(scope="read:search", public=True)
async def search_v2(call: Call) -> dict[str, Any]:
    """Search; statuses only for signed-in users, offset only with a type (both as Mastodon)."""
    query = (call.text("q") or "").strip()
    if not query:
        raise ApiError(400, "param is missing or the value is empty: q")
    kind = call.text("type") or None
    if call.account is None and call.params.get("offset") not in (None, ""):
        raise ApiError(401, "Search queries pagination is not supported without authentication")
    if call.account is None and call.flag("resolve"):
        raise ApiError(401, "Search queries that resolve remote resources are not supported without authentication")
    limit = max(1, min(_number(call, "limit", DEFAULT_LIMIT), MAX_LIMIT))
    offset = _number(call, "offset", 0) if kind else 0
    found: dict[str, list[Any]] = {"accounts": [], "statuses": [], "hashtags": []}
    if kind is not None and kind not in TYPES:
        return found
    if call.flag("resolve") and offset == 0:
        await call.session.commit()  # end the read transaction before talking to another server
        found = await _resolve(call, query, kind)
    if not any(found.values()) and not (call.flag("resolve") and query.startswith(("https://", "http://"))):
        found = await _look_up(call, query, kind, limit, offset)
    return await _render(call, found)


async def _look_up(call: Call, query: str, kind: str | None, limit: int, offset: int) -> dict[str, list[Any]]:
    """Our own rows; which kinds a query looks for follows Mastodon's SearchService."""
    viewer_id = call.account.actor_id if call.account else None
    found: dict[str, list[Any]] = {"accounts": [], "statuses": [], "hashtags": []}
    if kind in (None, "accounts") and not query.startswith("#") and not ("@" in query and " " in query):
        found["accounts"] = await search.accounts(
            call.session, query, domain=call.site.urls.domain, viewer_id=viewer_id,
            following=call.flag("following"), limit=limit, offset=offset)
    if kind in (None, "hashtags") and "@" not in query:
        found["hashtags"] = await search.hashtags(call.session, query, limit=limit, offset=offset)
    handle_or_tag = (query.startswith("#") or "@" in query) and " " not in query
    if kind in (None, "statuses") and viewer_id is not None and not handle_or_tag:
        found["statuses"] = await search.statuses(
            call.session, query, viewer_id=viewer_id, now=call.now, account_id=_optional_id(call, "account_id"),
            min_id=_optional_id(call, "min_id"), max_id=_optional_id(call, "max_id"), limit=limit, offset=offset)
    return found


async def _render(call: Call, found: dict[str, list[Any]]) -> dict[str, Any]:
    urls, viewer = call.site.urls, call.account.actor if call.account else None
    accounts = await render_accounts(call.session, urls, found["accounts"])
    return {
        "accounts": [accounts[actor.id] for actor in found["accounts"]],
        "statuses": await render_statuses(call.session, urls, found["statuses"], viewer,
                                          call.account.id if call.account else None),
        "hashtags": await render_tags(call.session, urls, found["hashtags"], now=call.now,
                                      signed_in=call.account is not None),
    }


async def _resolve(call: Call, query: str, kind: str | None) -> dict[str, list[Any]]:
    """A remote account by handle, or the account or post at a URL; empty when the lookup fails."""
    found: dict[str, list[Any]] = {"accounts": [], "statuses": [], "hashtags": []}
    deps: InboxDeps = call.request.app.state.inbox
    try:
        if query.startswith(("https://", "http://")):
            resource = await _known(call, query) or await _fetch(deps, query, now=call.now)
            if isinstance(resource, Actor) and kind in (None, "accounts"):
                found["accounts"] = [resource]
            elif isinstance(resource, Status) and kind in (None, "statuses") and await _may_see(call, resource):
                found["statuses"] = [resource]
        elif _HANDLE.match(query) and kind in (None, "accounts"):
            user, host = query.lstrip("@").split("@")
            if host.lower() != call.site.urls.domain:
                ap_id = await deps.fetcher.resolve_handle(f"{user}@{host}", now=call.now)
                found["accounts"] = [await remote.ensure_actor(deps, ap_id, now=call.now)]
    except _LOOKUP_FAILED as exc:
        log.info("search: could not resolve %r: %s", query[:200], exc)
    return found


async def _known(call: Call, url: str) -> Actor | Status | None:
    """A post or actor we already hold, by its id or its web address."""
    status = (await call.session.scalars(select(Status).where(or_(Status.ap_id == url, Status.url == url))
                                         .order_by(Status.id).limit(1))).first()
    if status is not None:
        return status
    return (await call.session.scalars(select(Actor).where(or_(Actor.ap_id == url, Actor.url == url))
                                       .order_by(Actor.id).limit(1))).first()


async def _fetch(deps: InboxDeps, url: str, *, now: datetime) -> Actor | Status | None:
    """Fetch a document from its server: an actor is stored, a post is stored with its author."""
    document = await deps.fetcher.fetch_object(url)
    kind = extract.type_of(document)
    if kind in vocab.ACTOR_TYPES:
        return await remote.store_actor_document(deps, document, now=now)
    if kind not in vocab.POST_TYPES:
        return None
    note = parse_note(document)
    if not note.attributed_to or actors.origin_of(note.attributed_to) != actors.origin_of(note.ap_id):
        log.info("search: %s claims an author on another server", note.ap_id)
        return None
    author = await remote.ensure_actor(deps, note.attributed_to, now=now)
    async with deps.sessions() as session, session.begin():
        # An old post fetched late gets its published time as id (DESIGN.md, Identity and order).
        return await remote_statuses.store(session, note, author, now=now, backfill=True)


async def _may_see(call: Call, status: Status) -> bool:
    """The visibility rule, for a post found by its address."""
    viewer_id = call.account.actor_id if call.account else None
    query = select(Status.id).where(Status.id == status.id, visible_to(viewer_id))
    return await call.session.scalar(query) is not None


ROUTES = [Route("/api/v2/search", search_v2)]
