"""Every route of the Mastodon client API and OAuth, in one list for app.py."""
from __future__ import annotations

from starlette.routing import BaseRoute

from fedserver.api.mastodon.endpoints import accounts, instance
from fedserver.api.oauth import authorize
from fedserver.api.oauth import routes as oauth

ROUTES: list[BaseRoute] = [
    *oauth.ROUTES,
    *authorize.ROUTES,
    *instance.ROUTES,
    *accounts.ROUTES,
]
