"""Web UI pages: server time per page on the demo city, against the 50 ms target (issue 5).

    .venv/bin/python bench/web_pages.py                     # about 40 s
    .venv/bin/python bench/web_pages.py --budget 1          # shorter: about 1 s per page
    .venv/bin/python bench/web_pages.py --profile /home     # cProfile of 200 requests of one page

1. `create_app(settings, seed_demo=True, run_workers=False)` on a fresh SQLite file in a temporary
   directory, its lifespan entered by asgi-lifespan (the demo city of `fedserver serve --demo`).
   The demo resident anna logs in through the log-in form (CSRF token and all); to give her pages
   something to show she follows every demo account, bookmarks two posts and jonas likes and
   boosts one of hers (local services, before anything is measured).
2. Each page is fetched in-process through httpx's ASGITransport, first once (it must answer 200
   with HTML), then for `--budget` seconds (at most `--requests` times) after a short warm-up.
   Server time is what the ASGI app itself takes, measured by a wrapper around it: from the call
   to the last byte of the answer, without the httpx client's own work.
3. Reference, in the same run and the same way: a bare Starlette route rendering the web UI's own
   home.html (same jinja2 environment, same catalogue, same filters) from static data shaped like
   anna's home page, without a database. The ratio column is page / reference.

Target: median and p99 under 50 ms per page (PASS/FAIL). A missed target is reported, not an
error: the exit code is non-zero only when the benchmark could not run.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from anywhere: fedserver, webui, bench

TARGET_MS = 50.0
RESIDENT = "anna"
PROFILE_USER = "stadt_moers"
Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


class BenchError(Exception):
    """The benchmark could not run (the app did not start, a page answered an error)."""


@dataclass
class Timed:
    """An ASGI app with a stopwatch: each call's duration and the process's CPU time meanwhile (seconds;
    aiosqlite's thread included, and nothing else runs in this process while a request is served)."""

    app: ASGIApp
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            await self.app(scope, receive, send)
        finally:
            self.times.append(time.perf_counter() - started)
            self.cpu.append(time.process_time() - started_cpu)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)   # type: ignore[union-attr]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-webui-") as data_dir:
            rows = asyncio.run(_run(Path(data_dir), args))
    except BenchError as exc:
        print(f"benchmark could not run: {exc}", file=sys.stderr)
        return 2
    if rows:
        _report(rows)
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps({"target_ms": TARGET_MS, "rows": rows}, indent=2))
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--budget", type=float, default=2.0, help="seconds of requests per page (default 2)")
    parser.add_argument("--requests", type=int, default=400, help="at most this many requests per page")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests per page first")
    parser.add_argument("--anonymous", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure the public pages as an anonymous visitor (default on)")
    parser.add_argument("--profile", metavar="PATH", help="cProfile 200 requests of this page instead ('/home')")
    parser.add_argument("--json", help="also write the results here")
    return parser.parse_args(argv)


async def _run(data_dir: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    import httpx
    from asgi_lifespan import LifespanManager

    from fedserver.app import create_app
    from fedserver.config import load_settings

    settings = load_settings({"domain": "moers.test", "data_dir": str(data_dir)}, environ={})
    app = create_app(settings, seed_demo=True, run_workers=False)
    timed = Timed(app)
    started = time.perf_counter()
    async with contextlib.AsyncExitStack() as stack:
        with contextlib.redirect_stdout(io.StringIO()):  # the demo's log-in lines
            await stack.enter_async_context(LifespanManager(app))
        site = app.state.site
        paths = await _prepare(site)
        transport = httpx.ASGITransport(app=timed)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as anna, \
                httpx.AsyncClient(transport=transport, base_url=settings.base_url) as visitor:
            await _log_in(anna)
            print(f"demo city ready in {time.perf_counter() - started:.1f} s; {RESIDENT} signed in")
            if args.profile:
                await _profile(anna, args.profile)
                return []
            reference = await _reference(args)
            rows = [reference]
            for path in paths:
                rows.append(await _measure(anna, timed, f"{RESIDENT}: {path}", path, args))
            if args.anonymous:
                for path in paths[:5]:
                    rows.append(await _measure(visitor, timed, f"anonymous: {path}", path, args))
    for row in rows:
        row["ratio"] = row["median_ms"] / reference["median_ms"]
    return rows


async def _prepare(site: Any) -> list[str]:
    """Give anna a home timeline, bookmarks and notifications; the pages to measure, public ones first."""
    from sqlalchemy import select

    from fedserver.db import utcnow
    from fedserver.local import accounts, bookmarks, boosts, follows, likes
    from fedserver.local.models.statuses import Status

    async with site.sessions() as session, session.begin():
        anna = (await accounts.find_by_username(session, RESIDENT)).actor
        jonas = (await accounts.find_by_username(session, "jonas")).actor
        city = (await accounts.find_by_username(session, PROFILE_USER)).actor
        statuses = list((await session.scalars(select(Status).order_by(Status.id))).all())
        if not statuses:
            raise BenchError("the demo city has no posts: was it seeded?")
        now = utcnow()
        for account in await _demo_actors(session):
            if account.id != anna.id:
                await follows.request(session, site.urls, anna, account, now=now)
        await follows.request(session, site.urls, jonas, anna, now=now)
        for status in statuses[:2]:
            await bookmarks.bookmark(session, anna, status)
        own = next(status for status in statuses if status.author_id == anna.id)
        await likes.like(session, site.urls, jonas, own, now=now)
        await boosts.boost(session, site.urls, jonas, own, now=now)
        city_post = next(status for status in statuses if status.author_id == city.id)
    return ["/", "/local", "/tags/moers", f"/@{PROFILE_USER}", f"/@{PROFILE_USER}/{city_post.id}",
            "/home", "/notifications", "/bookmarks", "/search?q=moers", "/settings"]


async def _demo_actors(session: Any) -> list[Any]:
    from fedserver.demo import DEMO_ACCOUNTS
    from fedserver.local import accounts

    return [(await accounts.find_by_username(session, demo.username)).actor for demo in DEMO_ACCOUNTS]


async def _log_in(client: Any) -> None:
    """Log in as a browser does: GET the form for its CSRF token, POST it, keep the session cookie."""
    from fedserver.demo import DEMO_PASSWORD

    form = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if form.status_code != 200 or token is None:
        raise BenchError(f"GET /login answered {form.status_code} without a form")
    answer = await client.post("/login", data={"csrf_token": token[1], "login": RESIDENT, "password": DEMO_PASSWORD})
    if answer.status_code != 303:
        raise BenchError(f"logging in as {RESIDENT} answered {answer.status_code}")


async def _measure(client: Any, timed: Timed, name: str, path: str, args: argparse.Namespace) -> dict[str, Any]:
    first = await client.get(path)
    if first.status_code != 200 or "<html" not in first.text:
        raise BenchError(f"{name} answered {first.status_code}: {first.text[:200]}")
    for _ in range(args.warmup):
        await client.get(path)
    timed.times.clear()
    timed.cpu.clear()
    deadline = time.perf_counter() + args.budget
    while time.perf_counter() < deadline and len(timed.times) < args.requests:
        await client.get(path)
    return _row(name, timed, len(first.content))


def _row(name: str, timed: Timed, size: int) -> dict[str, Any]:
    ms = sorted(t * 1000 for t in timed.times)
    return {"page": name, "requests": len(ms), "median_ms": statistics.median(ms), "p90_ms": _quantile(ms, 0.90),
            "p99_ms": _quantile(ms, 0.99), "cpu_median_ms": statistics.median(t * 1000 for t in timed.cpu),
            "bytes": size}


def _quantile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


# --- the reference: the same template from static data ----------------------------------------------

async def _reference(args: argparse.Namespace) -> dict[str, Any]:
    """A bare Starlette page rendering webui's home.html from static data, timed the same way."""
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    from webui import rendering

    context = _static_home()

    async def home(request: Request) -> HTMLResponse:
        return HTMLResponse(rendering.render("de", "home.html", {**context, "request": request}))

    timed = Timed(Starlette(routes=[Route("/home", home)]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=timed), base_url="https://moers.test") as client:
        return await _measure(client, timed, "reference: home.html, static data", "/home", args)


def _static_home() -> dict[str, Any]:
    """What webui's home page hands its template for anna, as plain values: 9 demo posts by 6 authors."""
    from fedserver.config import CityFacts
    from fedserver.demo import DEMO_ACCOUNTS
    from webui import navigation
    from webui.paging import Links

    moment = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)
    posts: list[SimpleNamespace] = []
    for demo in DEMO_ACCOUNTS:
        author = SimpleNamespace(username=demo.username, domain="", display_name=demo.display_name, icon_url=None)
        for text in demo.posts:
            moment += timedelta(minutes=17)
            status = SimpleNamespace(id=len(posts) + 1, language="de", published_at=moment, edited_at=None,
                                     spoiler_text="", content_html=f"<p>{text}</p>", visibility="public")
            posts.append(SimpleNamespace(status=status, author=author, boosted_by=None, images=[], liked=False,
                                         boosted=False, bookmarked=len(posts) < 2, is_own=demo.username == RESIDENT,
                                         page_url=f"/@{demo.username}/{status.id}"))
    posts.reverse()
    viewer = SimpleNamespace(username=RESIDENT, display_name="Anna", locale="de")
    return {"posts": posts, "paging": Links(older=None, newer=None), "visibilities": ("public",),
            "city": CityFacts(), "viewer": viewer, "navigation": navigation.items_for(True),
            "csrf_token": "x" * 64, "page": None, "urls": None}


# --- report and profile --------------------------------------------------------------------------------

def _report(rows: list[dict[str, Any]]) -> None:
    print(f"\nserver time per page (target: median and p99 under {TARGET_MS:.0f} ms)")
    print(f"{'page':<44} {'n':>5} {'median':>8} {'p90':>8} {'p99':>8} {'x ref':>6} {'CPU med':>8}  verdict")
    for row in rows:
        reference = row["page"].startswith("reference")
        verdict = "" if reference else (
            "PASS" if row["median_ms"] < TARGET_MS and row["p99_ms"] < TARGET_MS else "FAIL")
        print(f"{row['page']:<44} {row['requests']:>5} {row['median_ms']:>6.1f}ms {row['p90_ms']:>6.1f}ms "
              f"{row['p99_ms']:>6.1f}ms {row['ratio']:>6.1f} {row['cpu_median_ms']:>6.1f}ms  {verdict}")
    failed = [row["page"] for row in rows if not row["page"].startswith("reference")
              and (row["median_ms"] >= TARGET_MS or row["p99_ms"] >= TARGET_MS)]
    print(f"\n{len(failed)} page(s) missed the target" + (f": {', '.join(failed)}" if failed else ""))


async def _profile(client: Any, path: str, sort: str = "tottime") -> None:
    first = await client.get(path)
    if first.status_code != 200:
        raise BenchError(f"{path} answered {first.status_code}")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(200):
        await client.get(path)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(45)
    print(out.getvalue())


if __name__ == "__main__":
    sys.exit(main())
