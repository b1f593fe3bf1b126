"""CPU per outgoing POST: httpx (plain, and behind fedserver's SSRF guard) against aiohttp and a raw socket.

    .venv/bin/python bench/http_clients.py            # about 20 s
    .venv/bin/python bench/http_clients.py --posts 500 --loop asyncio

One receiver (`receiver` below, an ASGI app answering 202) runs under uvicorn in its own process
on 127.0.0.1, so only the client's CPU is counted (time.process_time of this process). Each client
POSTs the same signed ~2 KB activity body; the headers are made once, so signing is not measured
here (bench/fanout.py does that). Paths under /close/ make the receiver answer `Connection: close`,
so every POST opens a new TCP connection, as a fan-out to many servers does (TLS not included).
The reference for each row is a minimal HTTP/1.1 client on asyncio streams in the same mode.

Everything listens on 127.0.0.1 and every loop is bounded (--posts and --budget per case). Missed
targets are reported, not errors: the exit code is non-zero only when the benchmark could not run.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
# The fan-out target is 0.5 s of CPU for 100 deliveries: 5 ms each for signing, the queue's
# database work and the POST. The HTTP client may take a fifth of that.
POST_TARGET_MS = 1.0


async def receiver(scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                   send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    """A tiny inbox: read the body, answer 202; under /close/ also close the connection."""
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    while (await receive()).get("more_body", False):
        pass
    headers = [(b"content-length", b"0")]
    if scope["path"].startswith("/close/"):
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 202, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


@dataclass
class Case:
    name: str
    cpu_ms: float          # CPU of this process per POST
    wall_ms: float
    posts: int
    connects: float = 0.0  # TCP connections opened per POST (counted in a separate, untimed pass)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)   # type: ignore[union-attr]
    sys.path.insert(0, str(BENCH_DIR.parent))
    from bench.documents import BenchError, _free_port, _server, _wait_until_answering

    warn_if_busy()
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH_DIR), "http_clients:receiver",
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--no-access-log",
               "--log-level", "warning", "--lifespan", "on"]
    try:
        with tempfile.TemporaryDirectory(prefix="fedserver-bench-http-") as tmp, \
                _server(command, os.environ.copy(), Path(tmp) / "receiver.log") as process:
            _wait_until_answering(process, port, "/inbox/0", Path(tmp) / "receiver.log")
            rows = run_async(_measure_all(port, args), args.loop)
    except (BenchError, RuntimeError, OSError) as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1
    _report(rows)
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=1000, help="POSTs per case (default 1000)")
    parser.add_argument("--budget", type=float, default=3.0, help="seconds per case at most (default 3)")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="senders at once in the concurrent cases (fedserver's worker runs 8)")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop",
                        help="event loop (fedserver serve runs on uvloop; default uvloop)")
    args = parser.parse_args(argv)
    if not 0 < args.posts <= 100_000 or not 0 < args.budget <= 20:
        parser.error("--posts must be in (0, 100000] and --budget in (0, 20]")
    return args


def run_async(coroutine: Any, loop: str) -> Any:
    """Run on uvloop when asked and installed (as `fedserver serve` does), else on asyncio."""
    if loop == "uvloop":
        with contextlib.suppress(ImportError):
            import uvloop

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return runner.run(coroutine)
    return asyncio.run(coroutine)


def warn_if_busy() -> None:
    """Other processes on the machine skew every ratio: say so before measuring."""
    cores, samples = os.cpu_count() or 1, []
    for _ in range(5):   # runnable tasks right now (/proc/loadavg field 4), less this process
        with contextlib.suppress(OSError, ValueError, IndexError):
            samples.append(int(Path("/proc/loadavg").read_text().split()[3].split("/")[0]) - 1)
        time.sleep(0.1)
    busy = sum(samples) / len(samples) if samples else 0.0
    if busy >= 0.5 * cores:
        print(f"warning: {busy:.1f} other runnable tasks on {cores} cores before the run: "
              "other processes compete, the numbers will be noisy")


def signed_request(url: str) -> tuple[bytes, dict[str, str]]:
    """A Create body of Mastodon's size and the headers fedserver would send with it."""
    from datetime import datetime, timezone

    from fedserver.activitypub import signatures
    from fedserver.activitypub.keys import generate_key_pair

    private_pem, _public = generate_key_pair()
    actor = "https://moers.bench/users/alice"
    note = {"id": f"{actor}/statuses/1", "type": "Note", "attributedTo": actor, "published": "2024-05-01T10:00:00Z",
            "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [f"{actor}/followers"],
            "content": "<p>" + "Grüße aus Moers! " * 60 + "</p>", "tag": [], "attachment": []}
    body = json.dumps({"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}/statuses/1/activity",
                       "type": "Create", "actor": actor, "object": note}, ensure_ascii=False).encode()
    headers = signatures.sign_post(url, body, f"{actor}#main-key", private_pem, datetime.now(timezone.utc))
    headers["User-Agent"] = "fedserver/bench"
    return body, headers


# --- the clients: each returns an async function that POSTs to one URL ----------------------------

Poster = Callable[[str], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_client(port: int, body: bytes, headers: dict[str, str], connects: list[int]) -> Any:
    """The reference: HTTP/1.1 written by hand on asyncio streams, one kept-alive connection per sender."""
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items() if name.lower() != "host")

    async def post(url: str) -> None:
        path = url.split(str(port), 1)[1]
        if idle:
            reader, writer = idle.pop()
        else:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            if connects:
                connects[0] += 1
        writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}Content-Length: {len(body)}\r\n\r\n"
                     .encode("latin-1") + body)
        status = int((await reader.readline()).split()[1])
        close = False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            close |= line.lower().startswith(b"connection: close")
        if status != 202:
            raise RuntimeError(f"the receiver answered {status}")
        if close:
            writer.close()
        else:
            idle.append((reader, writer))

    try:
        yield post
    finally:
        for _reader, writer in idle:
            writer.close()


@contextlib.asynccontextmanager
async def httpx_client(body: bytes, headers: dict[str, str], connects: list[int], *, guarded: bool,
                       read_body: bool) -> Any:
    """httpx with a streamed POST. read_body=False is what fedserver/outbox/worker.py does (status
    only); httpcore then cannot reuse the connection, so every POST connects anew."""
    import httpx

    transport: Any = None
    if guarded:
        from fedserver.activitypub.ssrf import guarded_transport

        transport = guarded_transport(True)   # what create_app builds with --allow-private-network
    async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(10.0, connect=5.0),
                                 follow_redirects=False) as client:
        async def trace(event: str, _info: dict[str, Any]) -> None:
            if event == "connection.connect_tcp.complete":
                connects[0] += 1

        extensions = {"trace": trace} if connects else {}

        async def post(url: str) -> None:
            async with client.stream("POST", url, content=body, headers=headers, extensions=extensions) as response:
                if response.status_code != 202:
                    raise RuntimeError(f"the receiver answered {response.status_code}")
                if read_body:
                    async for _chunk in response.aiter_raw():   # empty here; lets the connection be reused
                        pass

        yield post


@contextlib.asynccontextmanager
async def aiohttp_client(body: bytes, headers: dict[str, str], connects: list[int]) -> Any:
    """aiohttp with one session (connection pool), the body as bytes, the answer's body not read."""
    import aiohttp

    sent_headers = {name: value for name, value in headers.items() if name.lower() != "host"}
    tracing = aiohttp.TraceConfig()

    async def created(_session: Any, _context: Any, _params: Any) -> None:
        connects[0] += 1

    tracing.on_connection_create_end.append(created)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10, connect=5),
                                     trace_configs=[tracing] if connects else []) as session:
        async def post(url: str) -> None:
            async with session.post(url, data=body, headers=sent_headers, allow_redirects=False) as response:
                if response.status != 202:
                    raise RuntimeError(f"the receiver answered {response.status}")

        yield post


async def time_posts(post: Poster, urls: list[str], budget: float, concurrency: int = 1) -> tuple[int, float, float]:
    """POST to each URL in turn (by `concurrency` senders) until done or `budget` seconds pass:
    (posts, CPU seconds of this process, wall seconds)."""
    position = 0
    deadline = time.perf_counter() + budget

    async def sender() -> None:
        nonlocal position
        while position < len(urls) and time.perf_counter() < deadline:
            url, position = urls[position], position + 1
            await post(url)

    await post(urls[-1])   # warm: connect, caches
    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return position, time.process_time() - cpu, time.perf_counter() - started


async def _measure_all(port: int, args: argparse.Namespace) -> list[tuple[Case, Case]]:
    base = f"http://127.0.0.1:{port}"
    body, headers = signed_request(f"{base}/inbox/0")
    rows: list[tuple[Case, Case]] = []
    modes = [("keep-alive", "inbox", 1), ("new conn. each", "close", 1),
             (f"keep-alive, x{args.concurrency}", "inbox", args.concurrency)]
    for mode, prefix, concurrency in modes:
        urls = [f"{base}/{prefix}/{number % 100:03d}" for number in range(args.posts)]
        clients: list[tuple[str, Any]] = [
            ("raw asyncio streams", lambda connects: raw_client(port, body, headers, connects)),
            ("httpx guarded, body unread (= outbox/worker.py)",
             lambda connects: httpx_client(body, headers, connects, guarded=True, read_body=False)),
            ("httpx guarded, body read",
             lambda connects: httpx_client(body, headers, connects, guarded=True, read_body=True)),
            ("httpx default transport, body read",
             lambda connects: httpx_client(body, headers, connects, guarded=False, read_body=True)),
            ("aiohttp", lambda connects: aiohttp_client(body, headers, connects)),
        ]
        reference: Case | None = None
        for name, make in clients:
            async with make([]) as post:   # timed, without connection tracing
                case = _case(f"{name} [{mode}]", await time_posts(post, urls, args.budget, concurrency))
            connects = [0]
            async with make(connects) as post:   # untimed: how many connections 20 POSTs open
                for url in urls[:20]:
                    await post(url)
            case.connects = connects[0] / min(20, len(urls))
            print(f"{case.name}: {case.cpu_ms:.3f} ms CPU, {case.wall_ms:.3f} ms wall per POST ({case.posts} POSTs), "
                  f"{case.connects:.2f} connections per POST")
            if reference is None:
                reference = case
            else:
                rows.append((case, reference))
    return rows


def _case(name: str, measured: tuple[int, float, float]) -> Case:
    posts, cpu, wall = measured
    if posts == 0:
        raise RuntimeError(f"{name}: no POST finished within the budget")
    return Case(name, 1000 * cpu / posts, 1000 * wall / posts, posts)


def _report(rows: list[tuple[Case, Case]]) -> None:
    print()
    print(f"{'measurement: CPU per POST [connections]':66} {'conn/POST':>9} {'value':>9} {'reference':>10} "
          f"{'ratio':>7} {'target':>9}  result")
    for case, reference in rows:
        verdict = "PASS" if case.cpu_ms <= POST_TARGET_MS else "FAIL"
        print(f"{case.name:66} {case.connects:9.2f} {case.cpu_ms:6.3f} ms {reference.cpu_ms:7.3f} ms "
              f"{case.cpu_ms / reference.cpu_ms:6.1f}x {'<= ' + format(POST_TARGET_MS, '.1f') + ' ms':>9}  {verdict}")
    print("reference: a hand-written HTTP/1.1 client on asyncio streams in the same mode; ratio = value / reference;\n"
          "conn/POST: TCP connections opened per POST (1.00 = none reused)")


if __name__ == "__main__":
    sys.exit(main())
