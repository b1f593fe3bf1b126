"""What a resident does to a post, each a POST form that goes back where it came from (no JavaScript needed):
boost, like, bookmark and their undoing, and deleting one's own post."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.routing import Route

from fedserver.local import bookmarks, boosts, likes, statuses
from fedserver.local.errors import NotFound
from fedserver.local.models.statuses import Status
from fedserver.local.visibility import can_see
from webui.page import Page, page


async def _visible(current: Page) -> Status:
    """The post in the path (a boost's original) if the resident may see it; otherwise not found."""
    status = await current.session.get(Status, current.path_id())
    if status is not None and status.reblog_of_id is not None:
        status = await current.session.get(Status, status.reblog_of_id)
    if status is None or not await can_see(current.session, current.me.actor, status):
        raise NotFound("no such post")
    return status


Action = Callable[[Page, Status], Awaitable[None]]


def _action(do: Action) -> Callable[..., Awaitable[Response]]:
    @page(login=True)
    async def run(current: Page) -> Response:
        await do(current, await _visible(current))
        return current.redirect(current.back())

    return run


async def _like(p: Page, status: Status) -> None:
    await likes.like(p.session, p.site.urls, p.me.actor, status, now=p.now)


async def _unlike(p: Page, status: Status) -> None:
    await likes.unlike(p.session, p.site.urls, p.me.actor, status, now=p.now)


async def _boost(p: Page, status: Status) -> None:
    await boosts.boost(p.session, p.site.urls, p.me.actor, status, now=p.now)


async def _unboost(p: Page, status: Status) -> None:
    await boosts.unboost(p.session, p.site.urls, p.me.actor, status, now=p.now)


async def _bookmark(p: Page, status: Status) -> None:
    await bookmarks.bookmark(p.session, p.me.actor, status)


async def _unbookmark(p: Page, status: Status) -> None:
    await bookmarks.unbookmark(p.session, p.me.actor, status)


@page(login=True)
async def delete(current: Page) -> Response:
    """Delete an own post for good; back to the page it was on, unless that was the post's own page."""
    status = await current.session.get(Status, current.path_id())
    actor = current.me.actor
    if status is None or status.author_id != actor.id or status.reblog_of_id is not None:
        raise NotFound("not an own post")
    await statuses.delete(current.session, current.site.urls, status, actor, now=current.now)
    target = current.back()
    return current.redirect("/home" if target.endswith(f"/{status.id}") else target)


def _post(path: str, handler: Callable[..., Awaitable[Response]]) -> Route:
    return Route(f"/statuses/{{id}}/{path}", handler, methods=["POST"])


ROUTES = [
    _post("like", _action(_like)), _post("unlike", _action(_unlike)),
    _post("boost", _action(_boost)), _post("unboost", _action(_unboost)),
    _post("bookmark", _action(_bookmark)), _post("unbookmark", _action(_unbookmark)),
    _post("delete", delete),
]
