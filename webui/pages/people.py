"""Finding people (search by name or @user@domain, which asks the other server by WebFinger), following and
unfollowing, and answering follow requests."""
from __future__ import annotations

import logging

from starlette.responses import Response
from starlette.routing import Route

from fedserver.activitypub.errors import MalformedObject, OriginMismatch, PeerUnavailable
from fedserver.activitypub.errors import NotAllowed as FetchRefused
from fedserver.activitypub.fetch import Gone
from fedserver.inbox import remote
from fedserver.local import account_lookup, follows, search
from fedserver.local.errors import LocalError, NotFound
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Follow
from webui import feeds, relations
from webui.page import Page, page
from webui.paging import Window, links

log = logging.getLogger(__name__)
RESULTS = 20
# What resolving a handle may run into; the search then says it found no one (as Mastodon's does).
UNRESOLVABLE = (MalformedObject, OriginMismatch, PeerUnavailable, FetchRefused, Gone, LocalError, ValueError)


@page(login=True)
async def search_page(current: Page) -> Response:
    text = current.request.query_params.get("q", "").strip()[:200]
    found: list[Actor] = []
    tags: list[str] = []
    if text:
        found = await account_lookup.search(current.session, current.site.urls, text, limit=RESULTS)
        user, domain = account_lookup.split_handle(current.site.urls, text)
        if domain and "@" in text.lstrip("@") and not _has_exact(found, user, domain):
            resolved = await resolve_remote(current, user, domain)
            found = [resolved, *found] if resolved is not None else found
        if not text.startswith("@"):
            tags = [tag.display_name for tag in await search.hashtags(current.session, text.lstrip("#"), limit=10)]
    states = await _relations(current, found)
    return current.render("search.html", q=text, found=found, tags=tags, relations=states, handle=feeds.handle)


def _has_exact(found: list[Actor], user: str, domain: str) -> bool:
    return any(actor.username_key == user.lower() and actor.domain == domain for actor in found)


async def resolve_remote(current: Page, user: str, domain: str) -> Actor | None:
    """A remote account (a person or a group) by WebFinger, fetched and stored; None when it cannot be found."""
    await current.session.commit()  # no transaction stays open across network I/O (STYLE.md)
    deps = current.request.app.state.inbox
    try:
        ap_id = await deps.fetcher.resolve_handle(f"{user}@{domain}", now=current.now)
        actor = await remote.ensure_actor(deps, ap_id, now=current.now)
        return await account_lookup.find_shown(current.session, actor.id)
    except UNRESOLVABLE as exc:
        log.info("could not resolve %s@%s: %s", user, domain, exc)
        return None


async def _relations(current: Page, actors: list[Actor]) -> dict[int, str | None]:
    return await relations.follow_states(current.session, current.me.actor.id, [actor.id for actor in actors])


async def _target(current: Page) -> Actor:
    return await account_lookup.find_shown(current.session, current.path_id())


@page(login=True)
async def follow(current: Page) -> Response:
    """Follow at once (open local accounts) or ask (locked and remote ones)."""
    target = await _target(current)
    await follows.request(current.session, current.site.urls, current.me.actor, target, now=current.now)
    return current.redirect(current.back(f"/@{feeds.handle(target)}"))


@page(login=True)
async def unfollow(current: Page) -> Response:
    target = await _target(current)
    await follows.end(current.session, current.site.urls, current.me.actor, target, now=current.now)
    return current.redirect(current.back(f"/@{feeds.handle(target)}"))


@page(login=True)
async def follow_requests(current: Page) -> Response:
    window = Window(max_id=current.query_id("max_id"), min_id=current.query_id("min_id"))
    rows = await account_lookup.follow_requests(current.session, current.me.actor.id, window)
    return current.render("follow_requests.html", requesters=[actor for _, actor in rows], handle=feeds.handle,
                          paging=links(window, [row_id for row_id, _ in rows]))


async def _request_from(current: Page) -> Follow:
    follower = await _target(current)
    row = await follows.find(current.session, follower.id, current.me.actor.id)
    if row is None:
        raise NotFound("no such follow request")
    return row


@page(login=True)
async def approve(current: Page) -> Response:
    await follows.approve(current.session, current.site.urls, await _request_from(current), now=current.now)
    return current.redirect(current.back("/follow_requests"))


@page(login=True)
async def reject(current: Page) -> Response:
    await follows.refuse(current.session, current.site.urls, await _request_from(current), now=current.now)
    return current.redirect(current.back("/follow_requests"))


ROUTES = [
    Route("/search", search_page),
    Route("/accounts/{id}/follow", follow, methods=["POST"]),
    Route("/accounts/{id}/unfollow", unfollow, methods=["POST"]),
    Route("/follow_requests", follow_requests),
    Route("/follow_requests/{id}/approve", approve, methods=["POST"]),
    Route("/follow_requests/{id}/reject", reject, methods=["POST"]),
]
