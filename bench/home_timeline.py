"""Home timeline: 40 statuses for a resident following 200 accounts, with 1M statuses in the database.

    .venv/bin/python bench/home_timeline.py                 # first run builds the database (1-2 min)
    .venv/bin/python bench/home_timeline.py --duration 10 --json bench/results/home_timeline.json
    .venv/bin/python bench/home_timeline.py --profile       # cProfile of in-process requests

1. Build (once, cached in bench/results/home_timeline/): `fedserver db upgrade` and `fedserver account
   create bench`, then bulk inserts with sqlite3 executemany: 5,000 remote authors on 50 servers,
   1,000,000 statuses over a year (public, unlisted, followers-only, direct; replies, boosts,
   hashtags, media, mentions), 100,000 likes, 20,000 follows, and the 200 accounts `bench` follows.
2. Over loopback with wrk: a bare Starlette hello-JSON app (bench/baseline_app.py), then `fedserver
   serve` (one worker) answering GET /api/v1/timelines/home?limit=40 with a password-grant token.
   Throughput with --connections keep-alive connections; latency p50/p99 with one connection.
3. In this process: the same page read with raw sqlite3 (ids, authors, content), the floor.

Targets (issue 4): p50 < 8 ms, p99 < 30 ms, >= 300 pages/s. A missed target is reported, not an
error: the exit code is non-zero only when the benchmark could not run.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # run from anywhere: fedserver, bench
from bench.documents import BenchError, _fedserver_command, _free_port, _server, _wait_until_answering  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
CACHE = BENCH_DIR / "results" / "home_timeline"
DOMAIN = "localhost:8000"           # the cached database's own domain, whatever port serve listens on
PASSWORD = "benchmark password 1"
SHAPE = {"authors": 5_000, "servers": 50, "statuses": 1_000_000, "followed": 200, "likes": 100_000,
         "follows": 20_000, "version": 1}
PATH = "/api/v1/timelines/home?limit=40"
TARGETS = {"p50_ms": 8.0, "p99_ms": 30.0, "pages_per_s": 300.0}
DAY_MS = 86_400_000
CHUNK = 50_000


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)   # type: ignore[union-attr]
    try:
        data_dir = _ensure_database(args.rebuild)
        if args.profile:
            asyncio.run(_profile(data_dir, args))
            return 0
        rows = {"baseline": _bench_baseline(args), "fedserver": _bench_fedserver(data_dir, args),
                "raw": _bench_raw(data_dir / "fedserver.db", args.raw_iterations)}
    except BenchError as exc:
        print(f"benchmark could not run: {exc}", file=sys.stderr)
        return 2
    _report(rows)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"shape": SHAPE, "targets": TARGETS, **rows}, indent=2))
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per measurement")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections for throughput")
    parser.add_argument("--raw-iterations", type=int, default=500)
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--profile", action="store_true", help="cProfile 200 in-process requests instead")
    parser.add_argument("--json", help="also write the results here")
    return parser.parse_args(argv)


# --- the database ----------------------------------------------------------------------------------

def _ensure_database(rebuild: bool) -> Path:
    marker = CACHE / "shape.json"
    if not rebuild and marker.exists() and json.loads(marker.read_text()) == SHAPE:
        print(f"using the cached database in {CACHE}")
        return CACHE
    if CACHE.exists():
        for path in sorted(CACHE.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    CACHE.mkdir(parents=True, exist_ok=True)
    env = _env(CACHE)
    started = time.monotonic()
    fedserver = _fedserver_command()
    _run(env, *fedserver, "db", "upgrade")
    _run(env, *fedserver, "account", "create", "bench", "--email", "bench@example.org", "--password", PASSWORD)
    connection = sqlite3.connect(CACHE / "fedserver.db")
    try:
        _fill(connection, random.Random(4))
        connection.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()
    marker.write_text(json.dumps(SHAPE))
    print(f"built the database in {time.monotonic() - started:.0f} s")
    return CACHE


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "FEDSERVER_DATA_DIR": str(data_dir), "FEDSERVER_DOMAIN": DOMAIN, "FEDSERVER_HTTP": "1"}


def _run(env: dict[str, str], *command: str) -> None:
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise BenchError(f"`{' '.join(command[1:3])}` failed:\n{done.stdout}{done.stderr}")


class _Writer:
    """executemany into a table, every NOT NULL column filled from the model's scalar defaults."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        from fedserver.db import Base
        import fedserver.local.models  # noqa: F401  (registers every table)

        self.connection, self.tables = connection, Base.metadata.tables

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        columns = list(self.tables[table].columns)
        defaults = {c.name: getattr(c.default, "arg", None) for c in columns
                    if c.default is not None and not callable(getattr(c.default, "arg", None))}
        names = [c.name for c in columns]
        values = [tuple(row.get(name, defaults.get(name)) for name in names) for row in rows]
        self.connection.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", values)


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def _fill(connection: sqlite3.Connection, rng: random.Random) -> None:
    writer = _Writer(connection)
    viewer = connection.execute("SELECT id FROM actors WHERE username = 'bench' AND domain = ''").fetchone()[0]
    start_ms = int((datetime.now(timezone.utc) - timedelta(days=365)).timestamp() * 1000)
    authors = _authors(writer, start_ms)
    followed = rng.sample(authors, SHAPE["followed"])
    follows = [{"id": (start_ms << 16) + n, "follower_id": viewer, "target_id": target, "state": "accepted",
                "created_at": _time(start_ms)} for n, target in enumerate(followed)]
    pairs = {(viewer, target) for target in followed}
    while len(follows) < SHAPE["followed"] + SHAPE["follows"]:
        pair = (rng.choice(authors), rng.choice(authors))
        if pair[0] != pair[1] and pair not in pairs:
            pairs.add(pair)
            follows.append({"id": (start_ms << 16) + len(follows), "follower_id": pair[0], "target_id": pair[1],
                            "state": "accepted", "created_at": _time(start_ms)})
    writer.insert("follows", follows)
    writer.insert("tags", [{"id": n + 1, "name": f"tag{n}", "display_name": f"Tag{n}"} for n in range(100)])
    status_ids = _statuses(writer, rng, authors, viewer, start_ms)
    likes = {(rng.choice(authors), rng.choice(status_ids)) for _ in range(SHAPE["likes"])}
    writer.insert("likes", [{"id": (start_ms << 16) + n, "actor_id": a, "status_id": s, "created_at": _time(start_ms)}
                            for n, (a, s) in enumerate(likes)])
    connection.commit()


def _authors(writer: _Writer, start_ms: int) -> list[int]:
    rows = []
    for n in range(SHAPE["authors"]):
        host = f"server{n % SHAPE['servers']}.example"
        rows.append({"id": (start_ms << 16) + 1_000_000 + n, "ap_id": f"https://{host}/users/u{n}", "kind": "Person",
                     "username": f"u{n}", "username_key": f"u{n}", "domain": host, "display_name": f"Person {n}",
                     "summary_html": "<p>Hallo aus der Nachbarschaft</p>", "url": f"https://{host}/@u{n}",
                     "inbox_url": f"https://{host}/users/u{n}/inbox", "shared_inbox_url": f"https://{host}/inbox",
                     "fields_json": "[]", "manually_approves_followers": 0, "is_discoverable": 1, "is_indexable": 0,
                     "is_bot": 0, "published_at": _time(start_ms), "updated_at": _time(start_ms)})
    writer.insert("actors", rows)
    return [int(row["id"]) for row in rows]


def _statuses(writer: _Writer, rng: random.Random, authors: list[int], viewer: int, start_ms: int) -> list[int]:
    """Statuses spread evenly over the year, in id order; a mix of kinds and visibilities."""
    total, step = SHAPE["statuses"], 365 * DAY_MS // SHAPE["statuses"]
    ids: list[int] = []
    ap_ids: dict[int, tuple[str, int]] = {}
    batch: dict[str, list[dict[str, Any]]] = {"statuses": [], "mentions": [], "status_tags": [],
                                              "media_attachments": []}
    for n in range(total):
        ms = start_ms + n * step
        status_id, author = (ms << 16) + 1, rng.choice(authors)
        ap_id = f"https://server{author % 50}.example/statuses/{status_id}"
        roll = rng.random()
        row: dict[str, Any] = {"id": status_id, "ap_id": ap_id, "url": ap_id, "author_id": author,
                               "object_type": "Note", "is_local": 0, "is_sensitive": 0, "spoiler_text": "",
                               "visibility": "public" if roll < 0.85 else "unlisted" if roll < 0.90
                               else "private" if roll < 0.97 else "direct",
                               "content_html": f"<p>Beitrag {n}: Neues aus dem Viertel, Markt und Verein.</p>",
                               "language": "de", "thread_ap_id": ap_id, "published_at": _time(ms),
                               "created_at": _time(ms)}
        kind = rng.random()
        if ids and kind < 0.05 and row["visibility"] in ("public", "unlisted"):
            target = ids[rng.randrange(max(0, len(ids) - 5000), len(ids))]
            row.update(reblog_of_id=target, content_html="", thread_ap_id=None)
        elif ids and kind < 0.25:
            parent = ids[rng.randrange(max(0, len(ids) - 5000), len(ids))]
            row.update(in_reply_to_id=parent, in_reply_to_ap_id=ap_ids[parent][0], thread_ap_id=ap_ids[parent][0])
        if row["visibility"] == "direct" or rng.random() < 0.05:
            batch["mentions"].append({"status_id": status_id, "actor_id": viewer if rng.random() < 0.1
                                      else rng.choice(authors)})
        if rng.random() < 0.1 and not row.get("reblog_of_id"):
            batch["status_tags"].append({"status_id": status_id, "tag_id": rng.randrange(1, 101)})
        if rng.random() < 0.05 and not row.get("reblog_of_id"):
            batch["media_attachments"].append({"id": status_id + 2, "owner_id": author, "status_id": status_id,
                                               "remote_url": f"{ap_id}.jpg", "kind": "image", "width": 800,
                                               "height": 600, "created_at": _time(ms)})
        batch["statuses"].append(row)
        ids.append(status_id)
        ap_ids[status_id] = (ap_id, author)
        if len(batch["statuses"]) >= CHUNK or n == total - 1:
            ap_ids = {sid: ap_ids[sid] for sid in ids[-5000:]}   # replies pick among the last 5,000
            for table, rows in batch.items():
                writer.insert(table, rows)
                rows.clear()
            print(f"  {n + 1:>9,} statuses", end="\r")
    print()
    return ids


# --- measuring ---------------------------------------------------------------------------------------

def _wrk(port: int, path: str, connections: int, duration: float, headers: list[str]) -> dict[str, float]:
    """Requests/s and latency percentiles from wrk (-t1, --latency); every answer must be 2xx."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", "--timeout", "5s"]
    for header in headers:
        command += ["-H", header]
    done = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                          timeout=duration + 60)
    if done.returncode != 0 or "Requests/sec" not in done.stdout:
        raise BenchError(f"wrk failed: {done.stderr or done.stdout}")
    if re.search(r"Non-2xx or 3xx responses:\s+\d+", done.stdout):
        raise BenchError(f"GET {path} answered errors under load:\n{done.stdout}")
    result = {"per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))}  # type: ignore[union-attr]
    for name, label in (("p50_ms", "50%"), ("p99_ms", "99%")):
        found = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", done.stdout, re.MULTILINE)
        if found is None:
            raise BenchError(f"no {label} latency in wrk's output:\n{done.stdout}")
        result[name] = float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
    return result


def _measure(port: int, path: str, args: argparse.Namespace, headers: list[str]) -> dict[str, float]:
    _wrk(port, path, args.connections, 1, headers)                       # warm-up, unmeasured
    loaded = _wrk(port, path, args.connections, args.duration, headers)
    alone = _wrk(port, path, 1, args.duration, headers)                  # latency: one request at a time
    return {"per_s": loaded["per_s"], "p50_ms": alone["p50_ms"], "p99_ms": alone["p99_ms"],
            "loaded_p50_ms": loaded["p50_ms"], "loaded_p99_ms": loaded["p99_ms"]}


def _bench_baseline(args: argparse.Namespace) -> dict[str, float]:
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH_DIR), "baseline_app:app", "--host",
               "127.0.0.1", "--port", str(port), "--workers", "1", "--no-access-log", "--log-level", "warning"]
    log = CACHE / "baseline.log"
    with _server(command, os.environ.copy(), log) as process:
        _wait_until_answering(process, port, "/hello", log)
        return _measure(port, "/hello", args, [])


def _bench_fedserver(data_dir: Path, args: argparse.Namespace) -> dict[str, float]:
    port = _free_port()
    serve = [*_fedserver_command(), "serve", "--http", "--host", "127.0.0.1", "--port", str(port),
             "--domain", DOMAIN, "--data-dir", str(data_dir)]
    log = data_dir / "serve.log"
    with _server(serve, _env(data_dir), log) as process:
        _wait_until_answering(process, port, "/api/v1/instance", log)
        headers = [f"Authorization: Bearer {_token(port)}"]
        page = json.loads(_get(port, PATH, headers))
        if len(page) != 40:
            raise BenchError(f"the home timeline gave {len(page)} statuses, not 40")
        print(f"checked GET {PATH}: 40 statuses, newest {page[0]['created_at']}")
        return _measure(port, PATH, args, headers)


def _get(port: int, path: str, headers: list[str], data: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=dict(
        header.split(": ", 1) for header in headers), data=urllib.parse.urlencode(data).encode() if data else None)
    with urllib.request.urlopen(request, timeout=30) as response:
        body: bytes = response.read()
        return body


def _token(port: int) -> str:
    """An app and a password-grant token, as a client would get them."""
    app = json.loads(_get(port, "/api/v1/apps", [], {"client_name": "bench", "redirect_uris":
                                                     "urn:ietf:wg:oauth:2.0:oob", "scopes": "read"}))
    token = json.loads(_get(port, "/oauth/token", [], {
        "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "username": "bench@example.org", "password": PASSWORD, "scope": "read"}))
    return str(token["access_token"])


RAW_PAGE = """
SELECT s.id, s.content_html, s.published_at, s.visibility, a.username, a.domain, a.display_name, a.url
FROM statuses s JOIN actors a ON a.id = s.author_id
WHERE s.author_id IN (SELECT target_id FROM follows WHERE follower_id = ? AND state = 'accepted' UNION ALL SELECT ?)
  AND s.visibility IN ('public', 'unlisted', 'private')
ORDER BY s.id DESC LIMIT 40
"""


def _bench_raw(database: Path, iterations: int) -> dict[str, float]:
    """The floor: the same 40 rows (ids, authors, content) with raw sqlite3, no HTTP, no ORM."""
    connection = sqlite3.connect(database)
    viewer = connection.execute("SELECT id FROM actors WHERE username = 'bench' AND domain = ''").fetchone()[0]
    timings = []
    for _ in range(iterations):
        started = time.perf_counter()
        rows = connection.execute(RAW_PAGE, (viewer, viewer)).fetchall()
        timings.append((time.perf_counter() - started) * 1000)
    connection.close()
    if len(rows) != 40:
        raise BenchError(f"the raw page has {len(rows)} rows, not 40")
    timings.sort()
    return {"per_s": 1000 / statistics.mean(timings), "p50_ms": timings[len(timings) // 2],
            "p99_ms": timings[int(len(timings) * 0.99)]}


async def _profile(data_dir: Path, args: argparse.Namespace) -> None:
    """cProfile of 200 home pages served in-process (httpx ASGI transport): where the time goes."""
    import httpx
    from asgi_lifespan import LifespanManager

    from fedserver.app import create_app
    from fedserver.config import load_settings

    settings = load_settings({"domain": DOMAIN, "data_dir": str(data_dir), "use_http": True}, environ={})
    app = create_app(settings)
    async with LifespanManager(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=settings.base_url) as client:
            app_reply = (await client.post("/api/v1/apps", data={"client_name": "p", "redirect_uris":
                                           "urn:ietf:wg:oauth:2.0:oob", "scopes": "read"})).json()
            token = (await client.post("/oauth/token", data={
                "grant_type": "password", "client_id": app_reply["client_id"], "scope": "read",
                "client_secret": app_reply["client_secret"], "username": "bench@example.org",
                "password": PASSWORD})).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            for _ in range(20):
                assert len((await client.get(PATH, headers=headers)).json()) == 40
            statements = _count_statements()
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            for _ in range(200):
                await client.get(PATH, headers=headers)
            profiler.disable()
            print(f"200 pages in-process: {(time.perf_counter() - started) * 5:.2f} ms each (profiled), "
                  f"{statements() / 200:.1f} SQL statements each (workers' included)")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(r"fedserver|sqlalchemy/(orm|engine)/(session|loading|result)", 45)
    # Own time: epoll's poll is the event loop waiting for aiosqlite's thread (SQLite's work and the hops).
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print(out.getvalue())


def _count_statements() -> Any:
    """From now on, count the statements sent to SQLite (each one trip to aiosqlite's thread, fedserver's
    compiled reads included, which bypass SQLAlchemy's events); the returned function reads the count."""
    from fedserver import sqlite_driver

    count = [0]
    run = sqlite_driver._run

    def counted(*args: Any) -> Any:
        count[0] += 1
        return run(*args)

    sqlite_driver._run = counted  # type: ignore[assignment]
    return lambda: count[0]


def _report(rows: dict[str, dict[str, float]]) -> None:
    base, ours, raw = rows["baseline"], rows["fedserver"], rows["raw"]
    print()
    print(f"{'':40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}   (p50/p99 at 1 connection)")
    for name, row in (("baseline: bare Starlette GET /hello", base), (f"fedserver GET {PATH}", ours),
                      ("raw sqlite3, the same page in-process", raw)):
        print(f"{name:40} {row['per_s']:9.0f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f}")
    print(f"fedserver under load ({'p50/p99 ms'}): {ours['loaded_p50_ms']:.1f} / {ours['loaded_p99_ms']:.1f}")
    print(f"ratios: throughput {ours['per_s'] / base['per_s']:.1%} of the baseline; p50 {ours['p50_ms'] / base['p50_ms']:.1f}x "
          f"the baseline's and {ours['p50_ms'] / raw['p50_ms']:.1f}x the raw page's")
    for name, value, target, ok in (
            ("p50 < 8 ms", ours["p50_ms"], TARGETS["p50_ms"], ours["p50_ms"] < TARGETS["p50_ms"]),
            ("p99 < 30 ms", ours["p99_ms"], TARGETS["p99_ms"], ours["p99_ms"] < TARGETS["p99_ms"]),
            (">= 300 pages/s", ours["per_s"], TARGETS["pages_per_s"], ours["per_s"] >= TARGETS["pages_per_s"])):
        print(f"{name:16} {value:10.2f}  target {target:g}  {'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    sys.exit(main())
