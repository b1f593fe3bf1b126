"""create_app(settings): the Starlette application with the routes of every layer, and its workers."""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from fedserver import __version__, demo, housekeeping, ids
from fedserver.activitypub.fetch import Fetcher
from fedserver.activitypub.ssrf import guarded_transport
from fedserver.api import federation, media_files, wellknown
from fedserver.api.cors import CorsMiddleware
from fedserver.api.mastodon import routes as mastodon_routes
from fedserver.api.mastodon.streaming.hub import Hub
from fedserver.api.ratelimit import RateLimiter, RateLimitMiddleware
from fedserver.api.responses import error
from fedserver.config import Settings
from fedserver.db import create_engine, migrate, session_factory, utcnow
from fedserver.document_cache import DocumentCache
from fedserver.inbox import routes as inbox_routes
from fedserver.inbox import worker as inbox_worker
from fedserver.inbox.context import InboxDeps
from fedserver.local import accounts
from fedserver.local import media as local_media
from fedserver.local.urls import LocalUrls
from fedserver.outbox import worker as delivery_worker
from fedserver.outbox.worker import DeliveryDeps
from fedserver.site import Site
from webui import routes as webui_routes
from webui.pages import errors as webui_errors

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, seed_demo: bool = False, http: httpx.AsyncClient | None = None,
               run_workers: bool = True) -> Starlette:
    """The whole server for one city; the lifespan migrates, makes the instance actor and starts workers.

    `http` is the client for outgoing requests (tests route it between in-process cities); by
    default it is an httpx client whose transport enforces the SSRF guard at connect time.
    """
    ids.configure(settings.node_id)
    urls = LocalUrls(settings.base_url)
    engine = create_engine(settings.database_url)
    documents = DocumentCache()
    site = Site(settings=settings, urls=urls, engine=engine, documents=documents,
                sessions=session_factory(engine, on_write_committed=documents.invalidate),
                secret_key=_secret_key(settings))
    hub, limiter = Hub(site.sessions), RateLimiter()  # streaming clients of this process; per-process API limits
    local_media.remove_files_after_commit(site.sessions, settings.media_dir)  # deleted media leave the disk

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await migrate(engine)
        async with site.sessions() as session, session.begin():
            instance = await accounts.ensure_instance_actor(session, urls, now=utcnow())
            key_id, private_pem = await accounts.signing_key(session, instance.ap_id)
        seeded = await demo.seed_if_empty(site.sessions, urls) if seed_demo else []
        for line in demo.login_lines(seeded, urls) if seeded else []:
            print(line, flush=True)
        async with contextlib.AsyncExitStack() as stack:
            client = http or await stack.enter_async_context(_outgoing_client(settings))
            user_agent = f"fedserver/{__version__} (+{urls.base_url})"
            fetcher = Fetcher(client, key_id=key_id, private_pem=private_pem, user_agent=user_agent,
                              insecure_http=settings.use_http)
            app.state.inbox = InboxDeps(sessions=site.sessions, urls=urls, fetcher=fetcher, clock=utcnow)
            app.state.delivery = DeliveryDeps(sessions=site.sessions, http=client, user_agent=user_agent,
                                              signing_key=_signing_keys(site))
            if run_workers:
                await stack.enter_async_context(_workers(site, app.state.inbox, app.state.delivery))
            await stack.enter_async_context(hub.running())  # polls only while a streaming client listens
            log.info("serving %s at %s", settings.city.name, urls.base_url)
            # What start-up made lives as long as the server: frozen, full collections no longer walk it
            # (44-120 ms pauses, a few per thousand API pages: bench/home_timeline.py).
            gc.freeze()
            try:
                yield
            finally:
                gc.unfreeze()
        await engine.dispose()

    app = Starlette(
        routes=[*wellknown.ROUTES, *inbox_routes.ROUTES, *federation.ROUTES, *mastodon_routes.ROUTES,
                *media_files.ROUTES, *webui_routes.ROUTES],
        lifespan=lifespan,
        middleware=[Middleware(CorsMiddleware), Middleware(RateLimitMiddleware, limiter=limiter)],
        exception_handlers={404: _not_found, 405: _method_not_allowed, 500: _server_error},
    )
    app.state.site = site
    app.state.streaming, app.state.rate_limits = hub, limiter
    return app


def _secret_key(settings: Settings) -> bytes:
    """The instance's secret for cookies and CSRF tokens: made once, kept in the data dir (mode 600)."""
    import os
    import secrets

    path = settings.data_dir / "secret_key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of this instance made it first
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def _outgoing_client(settings: Settings) -> httpx.AsyncClient:
    """Outgoing HTTP: httpx, because the same client type routes in-process cities in tests;
    bench/fanout.py measures its cost per delivery against the fan-out target."""
    return httpx.AsyncClient(transport=guarded_transport(settings.allow_private_network),
                             timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False)


def _signing_keys(site: Site):  # type: ignore[no-untyped-def]
    cache: dict[str, tuple[str, str]] = {}

    async def signing_key(actor_ap_id: str) -> tuple[str, str]:
        if actor_ap_id not in cache:
            async with site.sessions() as session:
                cache[actor_ap_id] = await accounts.signing_key(session, actor_ap_id)
        return cache[actor_ap_id]

    return signing_key


@contextlib.asynccontextmanager
async def _workers(site: Site, inbox: InboxDeps, delivery: DeliveryDeps) -> AsyncIterator[None]:
    """The in-process inbox, delivery and housekeeping workers, stopped cleanly on shutdown."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(inbox_worker.run_forever(inbox, stop), name="inbox-worker"),
             asyncio.create_task(delivery_worker.run_forever(delivery, utcnow, stop), name="delivery-worker"),
             asyncio.create_task(housekeeping.run_forever(site.sessions, utcnow, stop, media_dir=site.settings.media_dir,
                                                           urls=site.urls),
                                 name="housekeeping")]
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()


async def _not_found(request: Request, exc: Exception) -> Response:
    if webui_errors.wants_html(request):  # a browser: the web UI's page, in its language
        return await webui_errors.not_found(request)
    return error(404, f"nothing is at {request.url.path}")


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return error(405, f"{request.method} is not allowed on {request.url.path}")


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error(500, "something went wrong on our side; the error has been logged")
