"""Start cities in-process for tests: a real SQLite file per city, lifespan entered, httpx routed by host."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from fedserver.app import create_app
from fedserver.config import Settings, load_settings
from fedserver.db import utcnow
from fedserver.local import accounts, statuses
from fedserver.local.models.accounts import Account
from fedserver.local.models.statuses import Status
from fedserver.site import Site

PASSWORD = "correct horse battery"


@dataclass
class City:
    """One running city: its app, settings and a client that speaks to it over ASGI."""

    app: Starlette
    settings: Settings
    client: httpx.AsyncClient

    @property
    def site(self) -> Site:
        site: Site = self.app.state.site
        return site

    async def create_account(self, username: str, kind: str = "resident", **changes: object) -> Account:
        async with self.site.sessions() as session, session.begin():
            account = await accounts.create(session, self.site.urls, username=username,
                                            email=f"{username}@{self.settings.domain.split(':')[0]}.example",
                                            password=PASSWORD, kind=kind, now=utcnow())
            for key, value in changes.items():
                setattr(account.actor, key, value)
        return account

    async def post(self, username: str, text: str, visibility: str = "public", **options: object) -> Status:
        async with self.site.sessions() as session, session.begin():
            account = await accounts.find_by_username(session, username)
            return await statuses.create(session, self.site.urls, account.actor, text, visibility=visibility,
                                         now=utcnow(), **options)  # type: ignore[arg-type]


# Starting runs every migration on a fresh database: seconds on a busy shared machine, so wait longer
# than asgi-lifespan's default of 5 s (a bounded wait all the same).
STARTUP_TIMEOUT = 60


@asynccontextmanager
async def start_city(data_dir: Path, domain: str = "moers.test", database_url: str | None = None,
                     **overrides: object) -> AsyncIterator[City]:
    """A city on a fresh SQLite file (or the given database), serving https://<domain>."""
    settings = load_settings({"domain": domain, "data_dir": str(data_dir), "database_url": database_url,
                              **overrides}, environ={})
    app = create_app(settings)
    try:
        async with LifespanManager(app, startup_timeout=STARTUP_TIMEOUT, shutdown_timeout=STARTUP_TIMEOUT):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
                yield City(app=app, settings=settings, client=client)
    finally:
        # LifespanManager skips the app's shutdown when the test body raised: close the pool anyway.
        await app.state.site.engine.dispose()
