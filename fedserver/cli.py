"""The `fedserver` command: serve, worker, account create, status post, db upgrade."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fedserver.config import REGISTRATION_MODES, ConfigError, Settings, load_settings
from fedserver.local.errors import LocalError

Command = Callable[[Settings, argparse.Namespace], Awaitable[int]]
log = logging.getLogger(__name__)


def _instance_flags(parser: argparse.ArgumentParser) -> None:
    """Flags that say which instance a command talks to; each has a FEDSERVER_* variable too."""
    group = parser.add_argument_group("instance (each flag has a FEDSERVER_* environment variable)")
    group.add_argument("--domain", help="host[:port] of the instance (FEDSERVER_DOMAIN, default localhost:8000)")
    group.add_argument("--data-dir", dest="data_dir", help="database, media and keys (FEDSERVER_DATA_DIR, default ./fedserver-data)")
    group.add_argument("--database-url", dest="database_url", help="sqlite+aiosqlite:///... or postgresql+asyncpg://... (FEDSERVER_DATABASE_URL)")
    group.add_argument("--http", dest="use_http", action="store_true", default=None,
                       help="the instance's URLs are http:// (development; FEDSERVER_HTTP=1)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fedserver", description="A federated social server for cities.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server")
    _instance_flags(serve)
    serve.add_argument("--host", help="address to listen on (FEDSERVER_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (FEDSERVER_PORT, default 8000)")
    serve.add_argument("--allow-private-network", dest="allow_private_network", action="store_true", default=None,
                       help="let fetches and deliveries reach loopback and private addresses (tests, several cities on one machine)")
    serve.add_argument("--registrations", choices=REGISTRATION_MODES, help="who may sign up (FEDSERVER_REGISTRATIONS)")
    serve.add_argument("--node-id", dest="node_id", type=int, help="0-63, distinct per process sharing one PostgreSQL database (FEDSERVER_NODE_ID)")
    city = serve.add_argument_group("the city (each flag has a FEDSERVER_CITY_* variable)")
    city.add_argument("--city-name", dest="city.name", help="FEDSERVER_CITY_NAME, default Moers")
    city.add_argument("--city-description", dest="city.description", help="FEDSERVER_CITY_DESCRIPTION")
    city.add_argument("--city-latitude", dest="city.latitude", help="centre of the city (FEDSERVER_CITY_LATITUDE)")
    city.add_argument("--city-longitude", dest="city.longitude", help="centre of the city (FEDSERVER_CITY_LONGITUDE)")
    city.add_argument("--city-radius-km", dest="city.radius_km", help="default search radius (FEDSERVER_CITY_RADIUS_KM)")
    city.add_argument("--contact-email", dest="city.contact_email", help="FEDSERVER_CONTACT_EMAIL")
    serve.add_argument("--demo", action="store_true", help="seed a small demo city on first start")

    worker = commands.add_parser("worker", help="run the inbox and delivery workers without serving HTTP")
    _instance_flags(worker)
    worker.add_argument("--allow-private-network", dest="allow_private_network", action="store_true", default=None,
                        help="let fetches and deliveries reach loopback and private addresses (tests, several cities on one machine)")
    worker.add_argument("--node-id", dest="node_id", type=int, help="0-63, distinct per process sharing one PostgreSQL database (FEDSERVER_NODE_ID)")

    account = commands.add_parser("account", help="manage accounts").add_subparsers(dest="action", required=True, metavar="ACTION")
    create = account.add_parser("create", help="create a local account")
    _instance_flags(create)
    create.add_argument("username")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--kind", default="resident", choices=("resident", "business", "club", "city", "group"))
    create.add_argument("--admin", action="store_true", help="give the account the admin role")
    create.add_argument("--display-name", dest="display_name", default="")

    status = commands.add_parser("status", help="post statuses").add_subparsers(dest="action", required=True, metavar="ACTION")
    post = status.add_parser("post", help="post a status as a local account")
    _instance_flags(post)
    post.add_argument("username")
    post.add_argument("text")
    post.add_argument("--visibility", default="public", choices=("public", "unlisted", "private", "direct"))

    db = commands.add_parser("db", help="database maintenance").add_subparsers(dest="action", required=True, metavar="ACTION")
    upgrade = db.add_parser("upgrade", help="apply schema migrations")
    _instance_flags(upgrade)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    keys = ("domain", "data_dir", "database_url", "use_http", "allow_private_network", "registrations", "host",
            "port", "node_id", "city.name", "city.description", "city.latitude", "city.longitude", "city.radius_km",
            "city.contact_email")
    return load_settings({key: getattr(args, key, None) for key in keys})


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; every error is a one-line message, never a traceback."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = _settings(args)
        if args.command == "serve":
            return _serve(settings, args)
        if args.command == "worker":
            return asyncio.run(_worker(settings))
        command = _COMMANDS[(args.command, args.action)]
        return asyncio.run(_with_database(command, settings, args))
    except ConfigError as exc:
        print(f"fedserver: configuration error: {exc}", file=sys.stderr)
        return 2
    except LocalError as exc:
        print(f"fedserver: {exc}", file=sys.stderr)
        return 1


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from fedserver.app import create_app

    app = create_app(settings, seed_demo=args.demo)
    # No per-request access log: the reverse proxy keeps one, and here it would cost a tenth of a request.
    # Open event streams (SSE) never finish by themselves: on shutdown they get a few seconds, then end.
    uvicorn.run(app, host=settings.host, port=settings.port, proxy_headers=True,
                forwarded_allow_ips="127.0.0.1", log_level="info", access_log=False, timeout_graceful_shutdown=3)
    return 0


async def _worker(settings: Settings) -> int:
    """Run the inbox and delivery workers against the instance's database until SIGINT or SIGTERM."""
    import signal

    from fedserver.app import create_app

    # The app's lifespan builds InboxDeps and DeliveryDeps and runs both workers, exactly as
    # `fedserver serve` does; entering it without an HTTP server keeps one composition root.
    app = create_app(settings, run_workers=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with app.router.lifespan_context(app):
            log.info("worker for %s running; SIGINT or SIGTERM stops it", settings.base_url)
            await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    log.info("worker for %s stopped", settings.base_url)
    return 0


async def _with_database(command: Command, settings: Settings, args: argparse.Namespace) -> int:
    from fedserver.db import create_engine, migrate

    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        return await command(settings, args)
    finally:
        await engine.dispose()


async def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    print(f"fedserver: schema is up to date ({_safe_url(settings.database_url)})")
    return 0


async def _account_create(settings: Settings, args: argparse.Namespace) -> int:
    from fedserver.db import utcnow
    from fedserver.local import accounts
    from fedserver.local.models.accounts import ADMIN, USER

    async with _session(settings) as (session, urls):
        account = await accounts.create(
            session, urls, username=args.username, email=args.email, password=args.password, kind=args.kind,
            role=ADMIN if args.admin else USER, display_name=args.display_name, now=utcnow(),
        )
        await session.commit()
    print(f"fedserver: created @{account.actor.username}@{urls.domain} ({args.kind}) at {account.actor.ap_id}")
    return 0


async def _status_post(settings: Settings, args: argparse.Namespace) -> int:
    from fedserver.db import utcnow
    from fedserver.local import accounts, statuses

    async with _session(settings) as (session, urls):
        account = await accounts.find_by_username(session, args.username)
        status = await statuses.create(session, urls, account.actor, args.text, visibility=args.visibility, now=utcnow())
        await session.commit()
    print(f"fedserver: posted {status.url}")
    return 0


class _session:
    """A session and the instance's URLs for one CLI command."""

    def __init__(self, settings: Settings) -> None:
        from fedserver.db import create_engine, session_factory
        from fedserver.local.urls import LocalUrls

        self._engine = create_engine(settings.database_url)
        self._sessions = session_factory(self._engine)
        self._urls = LocalUrls(settings.base_url)

    async def __aenter__(self) -> tuple[Any, Any]:
        self._session = self._sessions()
        return self._session, self._urls

    async def __aexit__(self, *exc: object) -> None:
        await self._session.close()
        await self._engine.dispose()


def _safe_url(url: str) -> str:
    """The database URL without a password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


_COMMANDS: dict[tuple[str, str], Command] = {
    ("db", "upgrade"): _db_upgrade,
    ("account", "create"): _account_create,
    ("status", "post"): _status_post,
}

if __name__ == "__main__":
    sys.exit(main())
