"""Several cities in one process, each with its own SQLite file and keys, talking real HTTP through
an httpx transport that routes by host (STYLE.md, section 7). Workers are driven by `drain()`."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import anyio
import httpx
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from fedserver.app import create_app
from fedserver.config import load_settings
from fedserver.db import utcnow
from fedserver.inbox import worker as inbox_worker
from fedserver.local import accounts, actors
from fedserver.local.models.actors import Actor
from fedserver.outbox import worker as delivery_worker
from tests.cities import STARTUP_TIMEOUT, City

MAX_PASSES = 50
DRAIN_SECONDS = 20


class Router(httpx.AsyncBaseTransport):
    """Delivers each request to the city whose host it names; a city taken down refuses connections."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}
        self.down: set[str] = set()
        self.requests: list[tuple[str, str]] = []  # (method, url) of every request, for assertions

    def add(self, host: str, app: Starlette) -> None:
        self.apps[host] = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))

    def take_down(self, host: str) -> None:
        self.down.add(host)

    def bring_back(self, host: str) -> None:
        self.down.discard(host)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.netloc.decode("ascii")
        self.requests.append((request.method, str(request.url)))
        if host in self.down or host not in self.apps:
            raise httpx.ConnectError(f"{host} is unreachable", request=request)
        return await self.apps[host].handle_async_request(request)


@dataclass
class Federation:
    router: Router
    cities: dict[str, City] = field(default_factory=dict)

    def __getitem__(self, host: str) -> City:
        return self.cities[host]

    async def drain(self, now: datetime | None = None) -> None:
        """Run every city's inbox and delivery workers until a full pass finds nothing due."""
        with anyio.fail_after(DRAIN_SECONDS):
            for _ in range(MAX_PASSES):
                moment = now or utcnow()
                busy = 0
                for city in self.cities.values():
                    busy += await delivery_worker.drain(city.app.state.delivery, moment)
                    busy += await inbox_worker.drain(city.app.state.inbox, moment)
                if not busy:
                    return
        raise AssertionError(f"still busy after {MAX_PASSES} passes")


@asynccontextmanager
async def federation(tmp_path: Path, *hosts: str) -> AsyncIterator[Federation]:
    """Start the named cities (https://<host>), routed to each other in-process."""
    router = Router()
    result = Federation(router)
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx.AsyncClient(transport=router))
        for host in hosts:
            settings = load_settings({"domain": host, "data_dir": str(tmp_path / host)}, environ={})
            app = create_app(settings, http=http, run_workers=False)
            # LifespanManager skips the app's shutdown when the test body raised: close the pool anyway.
            stack.push_async_callback(app.state.site.engine.dispose)
            await stack.enter_async_context(
                LifespanManager(app, startup_timeout=STARTUP_TIMEOUT, shutdown_timeout=STARTUP_TIMEOUT))
            router.add(host, app)
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=router, base_url=settings.base_url))
            result.cities[host] = City(app=app, settings=settings, client=client)
        yield result


async def remote_actor(city: City, handle: str) -> Actor:
    """What a resident does to follow @user@host: resolve by WebFinger, fetch and store the actor."""
    fetcher = city.app.state.inbox.fetcher
    ap_id = await fetcher.resolve_handle(handle)
    from fedserver.inbox import remote

    return await remote.ensure_actor(city.app.state.inbox, ap_id, now=utcnow())


async def local_actor(city: City, username: str) -> Actor:
    async with city.site.sessions() as session:
        return (await accounts.find_by_username(session, username)).actor


async def actor_by_ap_id(city: City, ap_id: str) -> Actor:
    async with city.site.sessions() as session:
        return await actors.get_by_ap_id(session, ap_id)


async def follow(city: City, username: str, handle: str) -> None:
    """A local resident follows @user@host (the remote actor is resolved first)."""
    from fedserver.local import follows

    target = await remote_actor(city, handle)
    async with city.site.sessions() as session, session.begin():
        follower = (await accounts.find_by_username(session, username)).actor
        target = await actors.get_by_ap_id(session, target.ap_id)
        await follows.request(session, city.site.urls, follower, target, now=utcnow())


async def stored_texts(city: City) -> list[str]:
    """The content of every status a city holds (local and remote), oldest first."""
    from sqlalchemy import select

    from fedserver.local.models.statuses import Status

    async with city.site.sessions() as session:
        return list((await session.scalars(select(Status.content_html).where(Status.reblog_of_id.is_(None))
                                            .order_by(Status.id))).all())
