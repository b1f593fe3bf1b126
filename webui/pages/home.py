"""A resident's own pages: the home timeline, writing a post (text, content warning, visibility, an image with
alt text, replies), editing one, and the bookmarks."""
from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from fedserver.local import media, statuses, timelines
from fedserver.local.errors import NotFound
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import VISIBILITIES, Status
from fedserver.local.visibility import can_see
from webui import feeds
from webui.page import Page, page
from webui.paging import Window, links


@page(login=True)
async def home(current: Page) -> Response:
    window = Window(max_id=current.query_id("max_id"), min_id=current.query_id("min_id"))
    me = current.me
    entries = await timelines.home(current.session, me.actor, me.id, window, now=current.now)
    posts = await feeds.posts(current.session, current.site.urls, entries, me.actor)
    return current.render("home.html", posts=posts, paging=links(window, [entry.id for entry in entries]),
                          visibilities=VISIBILITIES)


@page(login=True)
async def compose(current: Page) -> Response:
    """Post, or reply when in_reply_to_id names a post the resident may see; back to where the form was."""
    actor = current.me.actor
    reply_to = await _reply_target(current)
    await statuses.create(
        current.session, current.site.urls, actor, current.field("status"),
        visibility=current.field("visibility") or "public", spoiler_text=current.field("spoiler_text"),
        language=current.me.locale, in_reply_to=reply_to, media=await _image(current), now=current.now)
    return current.redirect(current.back())


async def _reply_target(current: Page) -> Status | None:
    raw = current.field("in_reply_to_id")
    if not raw:
        return None
    try:
        status = await current.session.get(Status, int(raw))
    except ValueError:
        status = None
    if status is None or not await can_see(current.session, current.me.actor, status):
        raise NotFound("the post to reply to is gone")
    return await current.session.get(Status, status.reblog_of_id) if status.reblog_of_id else status


async def _image(current: Page) -> list[MediaAttachment]:
    upload = current.file("image")
    if upload is None:
        return []
    data = await upload.read(media.MAX_BYTES + 1)  # never more than one byte past the limit in memory
    return [await media.upload(current.session, current.site.settings.media_dir, current.me.actor, data,
                               description=current.field("description").strip(), now=current.now)]


async def _own(current: Page) -> Status:
    status = await current.session.get(Status, current.path_id())
    if status is None or status.author_id != current.me.actor.id or status.reblog_of_id is not None:
        raise NotFound("not an own post")
    return status


@page(login=True)
async def edit_form(current: Page) -> Response:
    status = await _own(current)
    return current.render("edit.html", status=status, next=current.back(f"/@{current.me.actor.username}/{status.id}"))


@page(login=True)
async def edit(current: Page) -> Response:
    status = await _own(current)
    await statuses.edit(current.session, current.site.urls, status, current.me.actor, current.field("status"),
                        spoiler_text=current.field("spoiler_text"), is_sensitive=status.is_sensitive,
                        now=current.now)
    return current.redirect(current.back(f"/@{current.me.actor.username}/{status.id}"))


@page(login=True)
async def bookmarks(current: Page) -> Response:
    window = Window(max_id=current.query_id("max_id"), min_id=current.query_id("min_id"))
    rows = await timelines.bookmarked(current.session, current.me.actor, window)
    posts = await feeds.posts(current.session, current.site.urls, [status for _, status in rows], current.me.actor)
    return current.render("bookmarks.html", posts=posts, paging=links(window, [row_id for row_id, _ in rows]))


ROUTES = [
    Route("/home", home),
    Route("/statuses", compose, methods=["POST"]),
    Route("/statuses/{id}/edit", edit_form, methods=["GET"]),
    Route("/statuses/{id}/edit", edit, methods=["POST"]),
    Route("/bookmarks", bookmarks),
]
