"""Every route of the web UI, mounted last by fedserver.app (the API's and federation's paths come first)."""
from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from webui.pages import actions, auth, groups, home, notifications, people, public, settings

HERE = Path(__file__).parent

ROUTES: list[BaseRoute] = [
    *auth.ROUTES,
    *home.ROUTES,
    *actions.ROUTES,
    *people.ROUTES,
    *groups.ROUTES,
    *notifications.ROUTES,
    *settings.ROUTES,
    *public.ROUTES,  # last: /@{handle} and /tags/{tag} catch what is left
    Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
]
