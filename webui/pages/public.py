"""Public pages: the city's landing page, the local timeline, profiles, status pages with their thread, hashtags."""
from __future__ import annotations

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from fedserver.local import account_lookup, city_rules, threads, timelines
from fedserver.local.errors import NotFound
from fedserver.local.models.actors import Actor
from fedserver.local.models.statuses import PUBLIC, Status
from fedserver.local.visibility import can_see
from webui import feeds, relations
from webui.page import Page, page
from webui.paging import PAGE_SIZE, Window, links


def _viewer(current: Page) -> Actor | None:
    return current.account.actor if current.account is not None else None


@page()
async def landing(current: Page) -> Response:
    window = Window(max_id=current.query_id("max_id"))
    rows = await timelines.local_public(current.session, max_id=window.max_id, limit=PAGE_SIZE)
    posts = await feeds.posts(current.session, current.site.urls, [status for status, _ in rows], _viewer(current))
    return current.render("landing.html", posts=posts, paging=links(window, [status.id for status, _ in rows], newer=False),
                          rules=city_rules.RULES, registrations=current.site.settings.registrations)


@page()
async def local_timeline(current: Page) -> Response:
    window = Window(max_id=current.query_id("max_id"))
    rows = await timelines.local_public(current.session, max_id=window.max_id, limit=PAGE_SIZE)
    posts = await feeds.posts(current.session, current.site.urls, [status for status, _ in rows], _viewer(current))
    return current.render("local.html", posts=posts, paging=links(window, [status.id for status, _ in rows], newer=False))


@page()
async def profile(current: Page) -> Response:
    handle = current.request.path_params["handle"]
    # A remote account is shown (to anyone, as Mastodon does) only as far as this city knows it already: the
    # lookup never asks the network, and the page lists public posts only.
    actor = await account_lookup.find_by_handle(current.session, current.site.urls, handle)
    window = Window(max_id=current.query_id("max_id"))
    rows = await timelines.by_author_public(current.session, actor.id, max_id=window.max_id, limit=PAGE_SIZE)
    viewer = _viewer(current)
    posts = await feeds.posts(current.session, current.site.urls, [status for status, _ in rows], viewer)
    facts = await relations.profile_facts(current.session, actor.id, viewer.id if viewer is not None else None)
    return current.render(
        "profile.html", actor=actor, posts=posts, paging=links(window, [status.id for status, _ in rows], newer=False),
        follow_state=facts.follow_state, is_me=viewer is not None and viewer.id == actor.id,
        followers=facts.followers, following=facts.following)


@page()
async def status_page(current: Page) -> Response:
    """A post and its thread, as far as the viewer may see them; the author in the path must match."""
    found = (await current.session.execute(select(Status, Actor).join(Actor, Actor.id == Status.author_id)
                                           .where(Status.id == current.path_id("status_id")))).first()
    viewer = _viewer(current)
    anonymous = viewer is None
    if found is None or feeds.handle(found[1]).lower() != current.request.path_params["handle"].lower():
        raise NotFound("no such post")
    status, author = found
    # Visitors see a remote post only when it is public, as Mastodon shows them; residents as visibility allows.
    remote_hidden = anonymous and bool(author.domain) and status.visibility != PUBLIC
    if status.reblog_of_id is not None or remote_hidden or not await can_see(current.session, viewer, status):
        raise NotFound("no such post")
    above = await threads.ancestors(current.session, status, viewer, now=current.now,
                                    limit=threads.ANONYMOUS_ANCESTORS if anonymous else threads.LIMIT)
    below = await threads.descendants(current.session, status, viewer, now=current.now,
                                      limit=threads.ANONYMOUS_DESCENDANTS if anonymous else 200,
                                      depth=threads.ANONYMOUS_DEPTH if anonymous else threads.LIMIT)
    shown = await feeds.posts(current.session, current.site.urls, [*above, status, *below], viewer)
    main = next(post for post in shown if post.status.id == status.id)
    return current.render("status.html", post=main, above=[p for p in shown[:len(above)]],
                          below=[p for p in shown[len(above) + 1:]])


@page()
async def tag_page(current: Page) -> Response:
    tag = current.request.path_params["tag"]
    window = Window(max_id=current.query_id("max_id"))
    rows = await timelines.tagged_public(current.session, tag, max_id=window.max_id, limit=PAGE_SIZE)
    posts = await feeds.posts(current.session, current.site.urls, [status for status, _ in rows], _viewer(current))
    return current.render("tag.html", tag=tag, posts=posts, paging=links(window, [status.id for status, _ in rows], newer=False))


ROUTES = [
    Route("/", landing),
    Route("/local", local_timeline),
    Route("/@{handle}", profile),
    Route("/@{handle}/{status_id}", status_page),
    Route("/tags/{tag}", tag_page),
]
