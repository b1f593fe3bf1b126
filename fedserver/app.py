"""create_app(settings): the Starlette application with the routes of every layer."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from fedserver import demo, ids
from fedserver.api import federation, wellknown
from fedserver.document_cache import DocumentCache
from fedserver.api.responses import error
from fedserver.config import Settings
from fedserver.db import create_engine, migrate, session_factory, utcnow
from fedserver.local import accounts
from fedserver.local.urls import LocalUrls
from fedserver.site import Site
from webui import routes as webui_routes

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, seed_demo: bool = False) -> Starlette:
    """The whole server for one city; the lifespan migrates the schema and makes the instance actor."""
    ids.configure(settings.node_id)
    urls = LocalUrls(settings.base_url)
    engine = create_engine(settings.database_url)
    documents = DocumentCache()
    site = Site(settings=settings, urls=urls, engine=engine, documents=documents,
                sessions=session_factory(engine, on_write_committed=documents.invalidate))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await migrate(engine)
        async with site.sessions() as session, session.begin():
            await accounts.ensure_instance_actor(session, urls, now=utcnow())
        seeded = await demo.seed_if_empty(site.sessions, urls) if seed_demo else []
        for line in demo.login_lines(seeded, urls) if seeded else []:
            print(line, flush=True)
        log.info("serving %s at %s", settings.city.name, urls.base_url)
        yield
        await engine.dispose()

    app = Starlette(
        routes=[*wellknown.ROUTES, *federation.ROUTES, *webui_routes.ROUTES],
        lifespan=lifespan,
        exception_handlers={404: _not_found, 405: _method_not_allowed, 500: _server_error},
    )
    app.state.site = site
    return app


async def _not_found(request: Request, exc: Exception) -> Response:
    return error(404, f"nothing is at {request.url.path}")


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return error(405, f"{request.method} is not allowed on {request.url.path}")


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error(500, "something went wrong on our side; the error has been logged")
