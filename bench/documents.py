"""Requests/s of fedserver's ActivityPub GET documents against a bare Starlette ceiling, and idle RSS.

Run with the project's venv:  .venv/bin/python bench/documents.py [--duration 5] [--baseline-only]
Everything listens on 127.0.0.1 and every wait is bounded. Missed targets are reported, not
errors: the exit code is non-zero only when the benchmark itself could not run.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ACCEPT = "application/activity+json"
ENDPOINTS = [("actor", "/users/alice"), ("outbox page", "/users/alice/outbox?page=true")]
RATIO_TARGET = 0.25        # each document at least a quarter of the bare-Starlette ceiling
RSS_TARGET_MB = 150.0
READY_TIMEOUT_S = 60.0
PASSWORD = "long-password-123"


class BenchError(RuntimeError):
    """The benchmark could not run (not: a target was missed)."""


@dataclass
class Result:
    name: str
    path: str
    requests_per_s: float


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)   # type: ignore[union-attr]  # progress before errors
    try:
        load = LoadGenerator.choose(args)
        print(f"load generator: {load.describe()}; {args.duration:g} s per endpoint after {args.warmup:g} s warm-up")
        with tempfile.TemporaryDirectory(prefix="fedserver-bench-") as tmp:
            baseline = _bench_baseline(load, Path(tmp))
            results, rss = ([], None) if args.baseline_only else _bench_fedserver(load, Path(tmp), args)
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1
    _report(baseline, results, rss)
    if args.json:
        _write_json(args.json, load, baseline, results, rss)
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per endpoint (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of unmeasured load first (default 1)")
    parser.add_argument("--connections", type=int, default=32, help="open keep-alive connections (default 32)")
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto",
                        help="wrk if installed (default), else a multi-process asyncio client")
    parser.add_argument("--processes", type=int, default=1, help="client processes for --load python (default 1)")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--posts", type=int, default=20, help="posts alice writes before the run (default 20)")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds idle after the load before reading RSS")
    parser.add_argument("--fedserver", help="the fedserver command (default: the one beside this Python)")
    parser.add_argument("--baseline-only", action="store_true", help="measure only the bare Starlette app")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 120 or not 0 <= args.warmup <= 30:   # keep every run bounded
        parser.error("--duration must be in (0, 120] and --warmup in [0, 30]")
    return args


# --- the two servers ---------------------------------------------------------------------------

def _bench_baseline(load: LoadGenerator, tmp: Path) -> Result:
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH_DIR), "baseline_app:app",
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
               "--no-access-log", "--log-level", "warning"]
    with _server(command, os.environ.copy(), tmp / "baseline.log") as process:
        _wait_until_answering(process, port, "/hello", tmp / "baseline.log")
        return Result("baseline", "/hello", load.measure(port, "/hello"))


def _bench_fedserver(load: LoadGenerator, tmp: Path, args: argparse.Namespace) -> tuple[list[Result], float]:
    port = _free_port()
    domain = f"127.0.0.1:{port}"
    data_dir = tmp / "fedserver-data"
    env = {**os.environ, "FEDSERVER_DATA_DIR": str(data_dir), "FEDSERVER_DOMAIN": domain, "FEDSERVER_HTTP": "1"}
    fedserver = [args.fedserver] if args.fedserver else _fedserver_command()
    serve = [*fedserver, "serve", "--http", "--host", "127.0.0.1", "--domain", domain,
             "--port", str(port), "--data-dir", str(data_dir)]
    log = tmp / "fedserver.log"
    with _server(serve, env, log) as process:
        # Start first: `serve` migrates the schema, so the CLI below finds the tables either way.
        _wait_until_answering(process, port, "/users/alice", log)
        _cli(env, *fedserver, "account", "create", "alice", "--email", "a@example.org", "--password", PASSWORD)
        for number in range(args.posts):
            _cli(env, *fedserver, "status", "post", "alice", f"Benchmark post {number}: Grüße aus Moers.")
        for _name, path in ENDPOINTS:
            _check_document(port, path)      # never benchmark an error page
        results = [Result(name, path, load.measure(port, path)) for name, path in ENDPOINTS]
        time.sleep(args.idle)                # let the server settle before reading its memory
        return results, _tree_rss_mb(process.pid)


def _fedserver_command() -> list[str]:
    script = Path(sys.executable).parent / "fedserver"
    if script.exists():
        return [str(script)]
    found = shutil.which("fedserver")
    if found:
        return [found]
    raise BenchError("no `fedserver` command next to this Python or on PATH; run scripts/setup first")


@contextlib.contextmanager
def _server(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process for the duration of the block; SIGTERM it (then SIGKILL) afterwards."""
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)   # its own session: workers go too
                process.wait(timeout=10)


def _wait_until_answering(process: subprocess.Popen[bytes], port: int, path: str, log: Path) -> None:
    """Poll until the server gives any HTTP answer (a 404 counts: it is up)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"the server ({log.stem}) exited with {process.returncode}:\n{_tail(log)}")
        try:
            _get(port, path)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"no answer on 127.0.0.1:{port} within {READY_TIMEOUT_S:g} s:\n{_tail(log)}")


def _cli(env: dict[str, str], *command: str) -> None:
    result = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise BenchError(f"`{' '.join(command[1:4])} ...` failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def _check_document(port: int, path: str) -> None:
    try:
        status, content_type, body = _get(port, path)
    except urllib.error.HTTPError as exc:
        raise BenchError(f"GET {path} answered {exc.code}; the benchmark needs 200") from None
    if "json" not in content_type:
        raise BenchError(f"GET {path} answered {content_type!r}, not ActivityPub JSON")
    document = json.loads(body)
    print(f"checked GET {path}: {status} {content_type.split(';')[0]}, type {document.get('type')!r}")


def _get(port: int, path: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Accept": ACCEPT})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (uvicorn workers are children), in MB."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total_kb, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        with contextlib.suppress(OSError):
            match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{current}/status").read_text(), re.M)
            total_kb += int(match.group(1)) if match else 0
    if total_kb == 0:
        raise BenchError(f"could not read VmRSS of pid {pid}")
    return total_kb / 1024


# --- load generation -----------------------------------------------------------------------------

@dataclass
class LoadGenerator:
    wrk: str | None
    args: argparse.Namespace

    @classmethod
    def choose(cls, args: argparse.Namespace) -> LoadGenerator:
        wrk = shutil.which("wrk")
        if wrk is None and args.load != "python" and not args.no_install:
            wrk = _install_wrk()
        if wrk is None and args.load == "wrk":
            raise BenchError("--load wrk but wrk is not installed (apt-get install wrk)")
        if wrk is None or args.load == "python":
            # A Python client on 2 cores competes with the server and may cap the baseline.
            print("note: using the Python client; wrk measures the ceiling more faithfully")
            return cls(None, args)
        return cls(wrk, args)

    def describe(self) -> str:
        if self.wrk:
            return f"wrk (1 thread, {self.args.connections} connections)"
        return f"asyncio client ({self.args.processes} processes x {self.args.connections} connections)"

    def measure(self, port: int, path: str) -> float:
        """Requests/s of successful answers, after an unmeasured warm-up."""
        if self.args.warmup > 0:
            self._run(port, path, self.args.warmup)
        return self._run(port, path, self.args.duration)

    def _run(self, port: int, path: str, duration: float) -> float:
        if self.wrk is None:
            return _python_load(port, path, duration, self.args.connections, self.args.processes)
        command = [self.wrk, "-t1", f"-c{self.args.connections}", f"-d{max(1, round(duration))}s",
                   "--timeout", "5s", "-H", f"Accept: {ACCEPT}", f"http://127.0.0.1:{port}{path}"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
        if done.returncode != 0:
            raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        output = done.stdout
        bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
        if bad:
            raise BenchError(f"GET {path}: {bad.group(1)} answers were not 2xx under load:\n{output}")
        rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
        if rate is None:
            raise BenchError(f"could not read wrk's output:\n{output}")
        return float(rate.group(1))


def _install_wrk() -> str | None:
    """apt-get install wrk when we are root on Debian; None when that is not possible."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    print("installing wrk (Debian package) for the load generator ...")
    if not _apt("install", "-y", "-q", "wrk"):
        # A fresh machine may have no package lists yet: update once, then try again.
        _apt("update", "-q")
        _apt("install", "-y", "-q", "wrk")
    return shutil.which("wrk")


def _apt(*args: str) -> bool:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(["apt-get", *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=600)
    return done.returncode == 0


def _python_load(port: int, path: str, duration: float, connections: int, processes: int) -> float:
    """Sum of each client process's successful requests/s (spawned, so no forked state)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        rates = pool.starmap(_client_process, [(port, path, duration, connections)] * processes)
    return sum(rates)


def _client_process(port: int, path: str, duration: float, connections: int) -> float:
    return asyncio.run(_client(port, path, duration, connections))


async def _client(port: int, path: str, duration: float, connections: int) -> float:
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: {ACCEPT}\r\n\r\n".encode()
    started = time.monotonic()
    deadline = started + duration

    async def connection() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        done = 0
        try:
            while time.monotonic() < deadline:
                writer.write(request)
                status = await _read_response(reader)
                if status != 200:
                    raise BenchError(f"GET {path} answered {status} under load")
                done += 1
        finally:
            writer.close()
        return done

    counts = await asyncio.wait_for(asyncio.gather(*(connection() for _ in range(connections))), duration + 30)
    return sum(counts) / (time.monotonic() - started)


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked body); return its status code."""
    status = int((await reader.readline()).split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if headers.get("transfer-encoding") == "chunked":
        while (size := int((await reader.readline()).split(b";")[0], 16)) > 0:
            await reader.readexactly(size + 2)
        await reader.readline()
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status


# --- report --------------------------------------------------------------------------------------

def _report(baseline: Result, results: list[Result], rss_mb: float | None) -> None:
    print()
    print(f"{'endpoint':48} {'req/s':>9} {'vs baseline':>12} {'target':>7}  result")
    print(f"{'baseline (bare Starlette) GET ' + baseline.path:48} {baseline.requests_per_s:9.0f} {'100%':>12}")
    for result in results:
        ratio = result.requests_per_s / baseline.requests_per_s
        verdict = "PASS" if ratio >= RATIO_TARGET else "FAIL"
        print(f"{result.name + ' GET ' + result.path:48} {result.requests_per_s:9.0f} {ratio:12.1%} "
              f"{RATIO_TARGET:7.0%}  {verdict}")
    if rss_mb is not None:
        verdict = "PASS" if rss_mb <= RSS_TARGET_MB else "FAIL"
        print(f"\nidle RSS of fedserver after the load: {rss_mb:.1f} MB (target <= {RSS_TARGET_MB:.0f} MB)  {verdict}")
    else:
        print("\nfedserver not measured (--baseline-only)")


def _write_json(path: Path, load: LoadGenerator, baseline: Result, results: list[Result], rss: float | None) -> None:
    document = {
        "load_generator": load.describe(), "baseline_rps": baseline.requests_per_s,
        "endpoints": [{"name": r.name, "path": r.path, "rps": r.requests_per_s,
                       "ratio": r.requests_per_s / baseline.requests_per_s} for r in results],
        "ratio_target": RATIO_TARGET, "idle_rss_mb": rss, "rss_target_mb": RSS_TARGET_MB,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
