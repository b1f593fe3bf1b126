"""Every route of the Mastodon client API and OAuth, in one list for app.py."""
from __future__ import annotations

from starlette.routing import BaseRoute

from fedserver.api.mastodon.endpoints import accounts, instance
from fedserver.api.mastodon.endpoints import conversations, filters, lists, markers, notifications, timelines
from fedserver.api.mastodon.streaming import routes as streaming
from fedserver.api.mastodon.endpoints import media, misc, search
from fedserver.api.mastodon.endpoints import polls, status_actions, statuses
from fedserver.api.mastodon.endpoints import filters_v1, notifications_v2, scheduled_statuses
from fedserver.api.mastodon.endpoints import groups
from fedserver.api.oauth import authorize
from fedserver.api.oauth import routes as oauth

ROUTES: list[BaseRoute] = [
    *oauth.ROUTES,
    *authorize.ROUTES,
    *instance.ROUTES,
    *accounts.ROUTES,
    *timelines.ROUTES, *notifications.ROUTES, *markers.ROUTES, *lists.ROUTES, *filters.ROUTES,
    *conversations.ROUTES,
    *streaming.ROUTES,
    *media.ROUTES, *search.ROUTES, *misc.ROUTES,
    *statuses.ROUTES, *status_actions.ROUTES, *polls.ROUTES,
    *scheduled_statuses.ROUTES, *filters_v1.ROUTES, *notifications_v2.ROUTES,
    *groups.ROUTES,
]
