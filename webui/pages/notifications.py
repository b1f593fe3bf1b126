"""Notifications: who followed, asked to follow, mentioned, boosted or liked, newest first."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from fedserver.local import notifications
from fedserver.local.models.actors import Actor
from fedserver.local.models.statuses import Status
from webui import feeds
from webui.page import Page, page
from webui.paging import Window, links


@dataclass(frozen=True)
class Entry:
    id: int
    kind: str
    who: Actor
    post: feeds.Post | None


@page(login=True)
async def notifications_page(current: Page) -> Response:
    window = Window(max_id=current.query_id("max_id"), min_id=current.query_id("min_id"))
    me = current.me.actor
    rows = await notifications.page(current.session, me.id, window)
    status_ids = [row.status_id for row in rows if row.status_id is not None]
    found = (await current.session.scalars(select(Status).where(Status.id.in_(status_ids)))).all() if status_ids else []
    shown, actors = await feeds.posts_with_actors(current.session, current.site.urls, found, me,
                                                  also_actors=[row.from_actor_id for row in rows])
    posts = {post.status.id: post for post in shown}
    entries = [Entry(row.id, row.kind, actors[row.from_actor_id], posts.get(row.status_id) if row.status_id else None)
               for row in rows if row.from_actor_id in actors]
    return current.render("notifications.html", entries=entries, handle=feeds.handle,
                          paging=links(window, [row.id for row in rows]))


ROUTES = [Route("/notifications", notifications_page)]
