"""Fan-out: the CPU to sign and send one post to followers on 100 servers, beside its minimal parts.

    .venv/bin/python bench/fanout.py                 # about 20 s
    .venv/bin/python bench/fanout.py --servers 100 --posts 3 --profile

A city is built in-process (create_app(..., run_workers=False), lifespan entered with asgi-lifespan),
alice gets --servers remote followers with distinct shared inboxes (accepted Follow rows), posts
with fedserver.local.statuses.create, and fedserver.outbox.worker.drain() is timed with
time.process_time (CPU) and perf_counter (wall). Three ways to reach the inboxes:

1. in-process: an httpx client whose transport routes each host to its own tiny receiver ASGI
   app (as tests/federation/cities.py does); the receivers' CPU counts too.
2. loopback, keep-alive: the app's own outgoing client (the SSRF-guarded httpx transport, with
   allow_private_network and --http settings) to one uvicorn receiver process on 127.0.0.1, one
   path per shared inbox (http://127.0.0.1:PORT/inbox/NNN). One host, so a client may keep one
   connection open, which real fan-out to 100 servers cannot.
3. loopback, new connection each: the receiver answers `Connection: close` (paths /close/NNN),
   so each delivery connects anew, as it must for 100 distinct servers (TLS not included).

Beside each total: signing alone (signatures.sign_post, the same key, URLs and body) and the
HTTP client alone (the same client and call as outbox/worker.py, no queue), measured in the same
run; the rest is the delivery queue's database work. The minimal reference is signing + HTTP.

Everything stays on 127.0.0.1 and every loop is bounded. Missed targets are reported, not errors:
the exit code is non-zero only when the benchmark itself could not run.
"""
from __future__ import annotations

import argparse
import cProfile
import contextlib
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))   # run from anywhere: fedserver and bench import

import httpx  # noqa: E402
from asgi_lifespan import LifespanManager  # noqa: E402

from bench.documents import BenchError, _free_port, _server, _wait_until_answering  # noqa: E402
from bench.http_clients import run_async, warn_if_busy  # noqa: E402
from fedserver.activitypub import signatures  # noqa: E402
from fedserver.activitypub.shapes import Actor as ActorShape  # noqa: E402
from fedserver.app import create_app  # noqa: E402
from fedserver.config import load_settings  # noqa: E402
from fedserver.db import utcnow  # noqa: E402
from fedserver.local import accounts, actors, statuses  # noqa: E402
from fedserver.local.models.interactions import ACCEPTED, Follow  # noqa: E402
from fedserver.outbox import worker as delivery_worker  # noqa: E402

TOTAL_TARGET_S = 0.5   # CPU for signing and sending all deliveries of one post to 100 servers
TEXT = "Heute Abend Stadtratssitzung im Rathaus Moers, 18 Uhr, öffentlich. Alle sind willkommen! #moers"


@dataclass
class Split:
    """One post's fan-out: totals and the parts measured alone (seconds)."""

    name: str
    deliveries: int
    total_cpu: float
    total_wall: float
    post_cpu: float        # statuses.create + commit (queues the deliveries)
    sign_cpu: float
    http_cpu: float
    aiohttp_cpu: float | None = None   # the same POSTs with aiohttp (loopback only)

    @property
    def rest_cpu(self) -> float:
        return self.total_cpu - self.sign_cpu - self.http_cpu


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)   # type: ignore[union-attr]
    results: list[Split] = []
    profiler = cProfile.Profile() if args.profile else None
    warn_if_busy()
    try:
        with tempfile.TemporaryDirectory(prefix="fedserver-bench-fanout-") as tmp:
            results.append(run_async(_in_process(Path(tmp) / "asgi", args, profiler), args.loop))
            port = _free_port()
            command = [sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH_DIR), "http_clients:receiver",
                       "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--no-access-log",
                       "--log-level", "warning", "--lifespan", "on"]
            log = Path(tmp) / "receiver.log"
            with _server(command, os.environ.copy(), log) as process:
                _wait_until_answering(process, port, "/inbox/000", log)
                results += run_async(_loopback(Path(tmp) / "loopback", port, args, profiler), args.loop)
    except (BenchError, RuntimeError, OSError) as exc:
        _report(results)
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1
    _report(results)
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
        print(out.getvalue())
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", type=int, default=100, help="remote servers following alice (default 100)")
    parser.add_argument("--posts", type=int, default=5, help="posts per case; the median is reported (default 5)")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop",
                        help="event loop (fedserver serve runs on uvloop; default uvloop)")
    parser.add_argument("--profile", action="store_true", help="cProfile the drain() calls and print the top")
    args = parser.parse_args(argv)
    if not 0 < args.servers <= 1000 or not 0 < args.posts <= 10:
        parser.error("--servers must be in (0, 1000] and --posts in (0, 10]")
    return args


# --- the city and its followers --------------------------------------------------------------------

@contextlib.asynccontextmanager
async def _city(data_dir: Path, http: httpx.AsyncClient | None, **overrides: Any) -> AsyncIterator[Any]:
    settings = load_settings({"domain": "moers.bench", "data_dir": str(data_dir), **overrides}, environ={})
    app = create_app(settings, http=http, run_workers=False)
    async with LifespanManager(app):
        yield app


async def _author_with_followers(app: Any, username: str, shared_inboxes: list[str]) -> Any:
    """A local account followed (accepted) by one remote actor per shared inbox."""
    site = app.state.site
    now = utcnow()
    async with site.sessions() as session, session.begin():
        account = await accounts.create(session, site.urls, username=username, email=f"{username}@moers.example",
                                        password="long-password-123", now=now)
        for number, shared_inbox in enumerate(shared_inboxes):
            ap_id = f"https://r{number:03d}.bench/users/{username}-fan"
            shape = ActorShape(ap_id=ap_id, type="Person", preferred_username=f"{username}-fan",
                               inbox=f"{ap_id}/inbox", shared_inbox=shared_inbox, followers=f"{ap_id}/followers")
            follower = await actors.store_remote(session, shape, now=now)
            session.add(Follow(follower_id=follower.id, target_id=account.actor.id, state=ACCEPTED,
                               ap_id=f"{ap_id}#follows/{username}", created_at=now))
    return account.actor


async def _post_and_drain(app: Any, author: Any, profiler: cProfile.Profile | None) -> tuple[int, float, float, float]:
    """Post one status, then drain the delivery queue: (deliveries, drain CPU, drain wall, post CPU)."""
    site = app.state.site
    cpu = time.process_time()
    async with site.sessions() as session, session.begin():
        await statuses.create(session, site.urls, author, TEXT, now=utcnow())
    post_cpu = time.process_time() - cpu
    now = utcnow()
    cpu, started = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    made = await delivery_worker.drain(app.state.delivery, now)
    if profiler is not None:
        profiler.disable()
    return made, time.process_time() - cpu, time.perf_counter() - started, post_cpu


async def _sent_body(app: Any, author: Any) -> tuple[bytes, str, str]:
    """The last Create's body and the author's key, exactly as the worker signs them."""
    from sqlalchemy import select

    from fedserver.outbox.published import PublishedActivity

    async with app.state.site.sessions() as session:
        body = await session.scalar(select(PublishedActivity.body).where(PublishedActivity.actor_ap_id == author.ap_id)
                                    .order_by(PublishedActivity.id.desc()).limit(1))
    if body is None:
        raise BenchError("the post published nothing")
    key_id, private_pem = await app.state.delivery.signing_key(author.ap_id)
    return body.encode("utf-8"), key_id, private_pem


async def _fanout(name: str, app: Any, author: Any, inboxes: list[str], args: argparse.Namespace,
                  profiler: cProfile.Profile | None, check: Callable[[int], None],
                  also_aiohttp: bool = False) -> Split:
    runs = []
    for _ in range(args.posts):
        made, cpu, wall, post_cpu = await _post_and_drain(app, author, profiler)
        if made != len(inboxes):
            raise BenchError(f"{name}: drain() made {made} attempts for {len(inboxes)} inboxes")
        runs.append((cpu, wall, post_cpu))
    check(args.posts * len(inboxes))
    await _check_all_sent(app, name)
    body, key_id, private_pem = await _sent_body(app, author)
    sign_cpu = _median(lambda: _sign_all(inboxes, body, key_id, private_pem), args.posts)
    http_cpu = statistics.median([await _http_all(app.state.delivery, inboxes, body, key_id, private_pem)
                                  for _ in range(args.posts)])
    aiohttp_cpu = None
    if also_aiohttp:
        aiohttp_cpu = statistics.median([await _aiohttp_all(inboxes, body, key_id, private_pem)
                                         for _ in range(args.posts)])
    cpu, wall, post_cpu = (statistics.median(values) for values in zip(*runs))
    split = Split(name, len(inboxes), cpu, wall, post_cpu, sign_cpu, http_cpu, aiohttp_cpu)
    print(f"{name}: {split.deliveries} deliveries in {wall:.3f} s wall, {cpu:.3f} s CPU "
          f"(signing {sign_cpu:.3f}, HTTP {http_cpu:.3f}, queue/database {split.rest_cpu:.3f}); "
          f"posting took {post_cpu:.3f} s CPU")
    return split


async def _check_all_sent(app: Any, name: str) -> None:
    from sqlalchemy import func, select

    from fedserver.outbox.deliveries import Delivery

    async with app.state.site.sessions() as session:
        states = dict((await session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))).all())
    if set(states) != {"sent"}:
        raise BenchError(f"{name}: deliveries by state {states}, expected all sent")


def _median(action: Callable[[], float], repeat: int) -> float:
    return statistics.median(action() for _ in range(repeat))


def _sign_all(inboxes: list[str], body: bytes, key_id: str, private_pem: str) -> float:
    now = utcnow()
    cpu = time.process_time()
    for url in inboxes:
        signatures.sign_post(url, body, key_id, private_pem, now)
    return time.process_time() - cpu


def _headers(inboxes: list[str], body: bytes, key_id: str, private_pem: str) -> list[dict[str, str]]:
    now = utcnow()
    return [signatures.sign_post(url, body, key_id, private_pem, now) for url in inboxes]


async def _http_all(deps: Any, inboxes: list[str], body: bytes, key_id: str, private_pem: str) -> float:
    """The POSTs alone, made as outbox/worker.py makes them (same client, streamed, status only)."""
    signed = _headers(inboxes, body, key_id, private_pem)   # signed beforehand: not counted here
    cpu = time.process_time()
    for url, headers in zip(inboxes, signed):
        async with deps.http.stream("POST", url, content=body, headers=headers) as response:
            if response.status_code != 202:
                raise BenchError(f"POST {url} answered {response.status_code}")
    return time.process_time() - cpu


async def _aiohttp_all(inboxes: list[str], body: bytes, key_id: str, private_pem: str) -> float:
    """The same POSTs with aiohttp: what the client choice could give (DESIGN.md "What costs what")."""
    import aiohttp

    signed = _headers(inboxes, body, key_id, private_pem)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10, connect=5)) as session:
        cpu = time.process_time()
        for url, headers in zip(inboxes, signed):
            sent = {name: value for name, value in headers.items() if name != "Host"}
            async with session.post(url, data=body, headers=sent, allow_redirects=False) as response:
                if response.status != 202:
                    raise BenchError(f"POST {url} answered {response.status}")
        return time.process_time() - cpu


# --- the three ways to reach the inboxes ----------------------------------------------------------

class TinyInbox:
    """A receiver ASGI app that reads the body and answers 202, counting POSTs."""

    def __init__(self) -> None:
        self.posts = 0

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
                       send: Callable[[MutableMapping[str, Any]], Awaitable[None]]) -> None:
        while (await receive()).get("more_body", False):
            pass
        self.posts += 1
        await send({"type": "http.response.start", "status": 202, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


class Router(httpx.AsyncBaseTransport):
    """Each host to its own receiver app (tests/federation/cities.py routes cities the same way)."""

    def __init__(self, receivers: dict[str, TinyInbox]) -> None:
        self.receivers = receivers
        self.transports = {host: httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
                           for host, app in receivers.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.transports[request.url.host].handle_async_request(request)


async def _in_process(data_dir: Path, args: argparse.Namespace, profiler: cProfile.Profile | None) -> Split:
    hosts = [f"r{number:03d}.bench" for number in range(args.servers)]
    receivers = {host: TinyInbox() for host in hosts}
    inboxes = [f"https://{host}/inbox" for host in hosts]
    async with httpx.AsyncClient(transport=Router(receivers)) as http, _city(data_dir, http) as app:
        author = await _author_with_followers(app, "alice", inboxes)

        def check(expected: int) -> None:
            if sum(receiver.posts for receiver in receivers.values()) != expected or \
                    any(receiver.posts != args.posts for receiver in receivers.values()):
                raise BenchError("in-process: the receivers did not get exactly one POST per post each")

        return await _fanout("in-process (httpx ASGITransport)", app, author, inboxes, args, profiler, check)


async def _loopback(data_dir: Path, port: int, args: argparse.Namespace,
                    profiler: cProfile.Profile | None) -> list[Split]:
    results = []
    # --http and --allow-private-network: the guarded transport lets deliveries reach 127.0.0.1.
    async with _city(data_dir, None, use_http=True, allow_private_network=True) as app:
        for name, username, prefix in (("loopback, keep-alive possible", "alice", "inbox"),
                                       ("loopback, new connection each", "bob", "close")):
            inboxes = [f"http://127.0.0.1:{port}/{prefix}/{number:03d}" for number in range(args.servers)]
            author = await _author_with_followers(app, username, inboxes)
            results.append(await _fanout(name, app, author, inboxes, args, profiler, lambda _expected: None,
                                         also_aiohttp=True))
    return results


# --- report ----------------------------------------------------------------------------------------

def _report(results: list[Split]) -> None:
    if not results:
        return
    print()
    print(f"{'measurement (one post, CPU unless wall)':60} {'value':>10} {'reference':>10} {'ratio':>7} "
          f"{'target':>9}  result")
    for split in results:
        minimal = split.sign_cpu + split.http_cpu
        verdict = "PASS" if split.total_cpu < TOTAL_TARGET_S else "FAIL"
        print(f"{split.name + f': {split.deliveries} deliveries':60} {split.total_cpu:8.3f} s {minimal:8.3f} s "
              f"{minimal / split.total_cpu:7.1%} {'< ' + format(TOTAL_TARGET_S, '.1f') + ' s':>9}  {verdict}")
        per = 1000 / split.deliveries
        lines = [("  CPU per delivery", split.total_cpu * per, minimal * per, "ms"),
                 ("  wall clock of drain()", split.total_wall, None, "s"),
                 ("  signing alone (sign_post)", split.sign_cpu, None, "s"),
                 ("  HTTP client alone (as outbox/worker.py posts)", split.http_cpu, None, "s"),
                 ("  queue and database (the rest)", split.rest_cpu, None, "s"),
                 ("  posting: statuses.create + commit", split.post_cpu, None, "s")]
        if split.aiohttp_cpu is not None:
            lines.insert(4, ("  HTTP with aiohttp instead (same POSTs)", split.aiohttp_cpu, None, "s"))
        for name, value, reference, unit in lines:
            shown_reference = f"{reference:8.3f} {unit}" if reference is not None else ""
            print(f"{name:60} {value:8.3f} {unit:2} {shown_reference:>9}")
    print("reference: signing + HTTP alone for the same deliveries, no queue; ratio = reference / value")


if __name__ == "__main__":
    sys.exit(main())
