"""ActivityPub GET documents: actors, statuses, activities and their collections."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fedserver.activitypub.convert.actor import render_actor
from fedserver.activitypub.convert.collection import render_collection, render_collection_page
from fedserver.activitypub.convert.note import render_note
from fedserver.activitypub.shapes import Collection, CollectionPage
from fedserver.api import negotiation
from fedserver.document_cache import CachedDocument
from fedserver.api.cursors import BadCursor, optional_id, page_number
from fedserver.api.responses import activity_json, error
from fedserver.ids import InvalidId, parse_id
from fedserver.local import accounts, follows, preferences, statuses, wire
from fedserver.local.errors import NotFound
from fedserver.local.models.actors import Actor
from fedserver.outbox import published
from fedserver.site import Site

OUTBOX_PAGE_SIZE = 20
FOLLOWS_PAGE_SIZE = 40

Handler = Callable[[Request, AsyncSession, Site], Awaitable[Response]]


def _document(html_target: Callable[[Request, Site], str] | None) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler: negotiate, open a read session, map NotFound to 404 and bad cursors to 400."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            site: Site = request.app.state.site
            kind = negotiation.choose(request)
            try:
                if kind == negotiation.ACTIVITY:
                    return await _cached(request, site, handler)
                if kind == negotiation.HTML and html_target is not None:
                    return RedirectResponse(html_target(request, site), status_code=302, headers={"Vary": "Accept"})
            except NotFound as exc:
                return error(404, str(exc))
            except _Moved as moved:
                return RedirectResponse(moved.url, status_code=301, headers={"Vary": "Accept"})
            except BadCursor as exc:
                return error(400, str(exc))
            if html_target is None:
                return error(406, "this resource is available as application/activity+json only")
            return error(406, "this resource is available as application/activity+json or text/html")

        return endpoint

    return wrap


async def _cached(request: Request, site: Site, handler: Handler) -> Response:
    """Serve an anonymous fetch from the document cache, or render it and keep a 200 there."""
    if "authorization" in request.headers or "signature" in request.headers:
        async with site.sessions() as session:
            return await handler(request, session, site)
    key = f"{request.url.path}?{request.url.query}"
    cached = site.documents.get(key)
    if cached is not None:
        return Response(cached.body, cached.status_code, headers=dict(cached.headers), media_type=cached.media_type)
    generation = site.documents.generation
    async with site.sessions() as session:
        response = await handler(request, session, site)
    if response.status_code == 200:
        headers = tuple((k, v) for k, v in response.headers.items() if k not in ("content-length", "content-type"))
        site.documents.put(key, CachedDocument(bytes(response.body), 200, response.media_type or "", headers),
                           generation)
    return response


def _profile_page(request: Request, site: Site) -> str:
    return site.urls.profile(request.path_params["username"])


def _status_page(request: Request, site: Site) -> str:
    return site.urls.status_page(request.path_params["username"], _path_id(request, "status_id"))


def _path_id(request: Request, name: str) -> int:
    """An id from the path; anything that cannot be one of our ids is simply not here (404)."""
    try:
        return parse_id(request.path_params[name], name)
    except InvalidId:
        raise NotFound("there is no such post here") from None


class _Moved(Exception):
    """The document lives at another URL (the username spelt as registered)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


async def _local_actor(session: AsyncSession, request: Request) -> Actor:
    """The local actor the path names; another spelling of the name is redirected, so that a
    document's id is always the URL it was fetched from."""
    asked = request.path_params["username"]
    actor = (await accounts.find_by_username(session, asked)).actor
    if asked != actor.username:
        path = request.url.path.replace(f"/users/{asked}", f"/users/{actor.username}", 1)
        raise _Moved(path + (f"?{request.url.query}" if request.url.query else ""))  # relative: proxy-safe
    return actor


@_document(_profile_page)
async def actor_document(request: Request, session: AsyncSession, site: Site) -> Response:
    actor = await _local_actor(session, request)
    return activity_json(render_actor(await wire.actor_shape(session, actor)), cache_seconds=60)


@_document(lambda request, site: f"{site.urls.base_url}/about")
async def instance_actor_document(request: Request, session: AsyncSession, site: Site) -> Response:
    actor = await accounts.find_instance_actor(session, site.urls)
    return activity_json(render_actor(await wire.actor_shape(session, actor)), cache_seconds=300)


@_document(_profile_page)
async def outbox(request: Request, session: AsyncSession, site: Site) -> Response:
    """Public and unlisted activities, newest first, paged by id (max_id / min_id)."""
    actor = await _local_actor(session, request)
    base = actor.outbox_url or site.urls.outbox(actor.username)
    max_id, min_id = optional_id(request, "max_id"), optional_id(request, "min_id")
    if "page" not in request.query_params and max_id is None and min_id is None:
        total = await published.count_listed(session, actor.ap_id)
        return activity_json(render_collection(Collection(
            ap_id=base, total_items=total, first=f"{base}?page=true", last=f"{base}?min_id=0&page=true")))
    rows = await published.listed_page(session, actor.ap_id, max_id=max_id, min_id=min_id, limit=OUTBOX_PAGE_SIZE)
    items: list[Any] = [_without_context(row.document()) for row in rows]
    page_id = f"{base}?page=true" + (f"&max_id={max_id}" if max_id is not None else "") + (
        f"&min_id={min_id}" if min_id is not None else "")
    return activity_json(render_collection_page(CollectionPage(
        ap_id=page_id, part_of=base, items=tuple(items),
        next=f"{base}?max_id={rows[-1].id}&page=true" if len(rows) == OUTBOX_PAGE_SIZE else None,
        prev=f"{base}?min_id={rows[0].id}&page=true" if rows else None,
    )))


@_document(_profile_page)
async def followers(request: Request, session: AsyncSession, site: Site) -> Response:
    actor = await _local_actor(session, request)
    if await preferences.hides_collections(session, actor.id):
        return _count_only(request, actor.followers_url or "", await follows.count_followers(session, actor.id))
    return await _numbered_collection(request, session, actor.id, actor.followers_url or "",
                                    await follows.count_followers(session, actor.id), follows.followers_page)


@_document(_profile_page)
async def following(request: Request, session: AsyncSession, site: Site) -> Response:
    actor = await _local_actor(session, request)
    if await preferences.hides_collections(session, actor.id):
        return _count_only(request, actor.following_url or "", await follows.count_following(session, actor.id))
    return await _numbered_collection(request, session, actor.id, actor.following_url or "",
                                    await follows.count_following(session, actor.id), follows.following_page)


def _count_only(request: Request, base: str, total: int) -> Response:
    """hide_collections: the size without the members and no pages (Mastodon answers a page 403)."""
    if page_number(request) is not None:
        return error(403, "this account hides its followers and follows")
    return activity_json(render_collection(Collection(ap_id=base, total_items=total)))


async def _numbered_collection(request: Request, session: AsyncSession, owner_id: int, base: str, total: int,
                               load: Callable[..., Awaitable[list[str]]]) -> Response:
    """A collection of IRIs paged by number (followers, following, replies)."""
    number = page_number(request)
    if number is None:
        return activity_json(render_collection(Collection(ap_id=base, total_items=total, first=f"{base}?page=1")))
    items = await load(session, owner_id, offset=(number - 1) * FOLLOWS_PAGE_SIZE, limit=FOLLOWS_PAGE_SIZE + 1)
    has_next = len(items) > FOLLOWS_PAGE_SIZE
    return activity_json(render_collection_page(CollectionPage(
        ap_id=f"{base}?page={number}", part_of=base, items=tuple(items[:FOLLOWS_PAGE_SIZE]),
        next=f"{base}?page={number + 1}" if has_next else None,
        prev=f"{base}?page={number - 1}" if number > 1 else None,
    )))


@_document(_profile_page)
async def featured(request: Request, session: AsyncSession, site: Site) -> Response:
    """Pinned public posts (the profile's featured collection); empty until pinning exists in the API."""
    actor = await _local_actor(session, request)
    notes = [render_note(note, context=False) for note in await statuses.pinned_notes(session, site.urls, actor)]
    base = actor.featured_url or site.urls.featured(actor.username)
    return activity_json(render_collection(Collection(
        ap_id=base, total_items=len(notes),
        first=CollectionPage(ap_id=f"{base}?page=true", part_of=base, items=tuple(notes)))))


@_document(_status_page)
async def status_document(request: Request, session: AsyncSession, site: Site) -> Response:
    """A post as a Note; followers-only and direct posts answer 404 to anonymous fetches (DESIGN.md)."""
    status, author = await _listed_status(request, session)
    return activity_json(render_note(await wire.note_shape(session, site.urls, status, author)))


@_document(_status_page)
async def status_activity(request: Request, session: AsyncSession, site: Site) -> Response:
    status, _author = await _listed_status(request, session)
    row = await published.find(session, f"{status.ap_id}/activity")
    if row is None:
        raise NotFound("this post has no Create activity")
    return activity_json(row.document())


@_document(_status_page)
async def replies(request: Request, session: AsyncSession, site: Site) -> Response:
    """Public and unlisted replies to a listed post (the Note's `replies` link)."""
    status, _author = await _listed_status(request, session)
    return await _numbered_collection(request, session, status.id, f"{status.ap_id}/replies",
                                      await statuses.count_listed_replies(session, status.id),
                                      statuses.listed_replies)


@_document(None)
async def activity_document(request: Request, session: AsyncSession, site: Site) -> Response:
    """Any other activity we sent, when it is listed (public or unlisted)."""
    ap_id = site.urls.activity(request.path_params["username"], _path_id(request, "activity_id"))
    row = await published.find(session, ap_id)
    if row is None or not row.is_listed:
        raise NotFound("there is no such activity here")
    return activity_json(row.document())


async def _listed_status(request: Request, session: AsyncSession) -> tuple[Any, Actor]:
    await _local_actor(session, request)
    status, author = await statuses.find_local(session, _path_id(request, "status_id"))
    if author.username_key != request.path_params["username"].lower() or not statuses.is_listed(status):
        raise NotFound("there is no such post here")
    return status, author


def _without_context(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "@context"}


ROUTES = [
    Route("/actor", instance_actor_document),
    Route("/users/{username}", actor_document),
    Route("/users/{username}/outbox", outbox),
    Route("/users/{username}/followers", followers),
    Route("/users/{username}/following", following),
    Route("/users/{username}/collections/featured", featured),
    Route("/users/{username}/statuses/{status_id}", status_document),
    Route("/users/{username}/statuses/{status_id}/activity", status_activity),
    Route("/users/{username}/statuses/{status_id}/replies", replies),
    Route("/users/{username}/activities/{activity_id}", activity_document),
]
