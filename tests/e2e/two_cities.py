"""Two real cities on loopback ports: start and restart them, create accounts, follow, read their databases.

Run as a script, it is the follow step (there is no client API yet):

    FEDSERVER_DATA_DIR=... FEDSERVER_DOMAIN=... FEDSERVER_HTTP=1 FEDSERVER_ALLOW_PRIVATE_NETWORK=1 \\
        python tests/e2e/two_cities.py follow USERNAME user@host

It runs tests/federation/cities.py `follow()` itself (WebFinger, fetch and store the actor, then
`fedserver.local.follows.request`, which queues the Follow) inside the app's own lifespan without
workers, so the fetcher, its keys and its guarded client are the ones the server builds. The running
`fedserver serve` of the same city then delivers the queued Follow.
"""
from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

CHECKOUT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
WAIT_SECONDS = 30.0
T = TypeVar("T")


@dataclass(frozen=True)
class CityDir:
    """One city's data dir and fixed loopback port, so that it can be stopped and started again."""

    data_dir: Path
    port: int

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.domain}"

    @property
    def env(self) -> dict[str, str]:
        """What every `fedserver` command of this city needs (DESIGN.md: CLI commands find the instance so)."""
        return {"FEDSERVER_DATA_DIR": str(self.data_dir), "FEDSERVER_DOMAIN": self.domain, "FEDSERVER_HTTP": "1",
                "FEDSERVER_ALLOW_PRIVATE_NETWORK": "1"}

    def handle(self, username: str) -> str:
        return f"{username}@{self.domain}"

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the city's SQLite database (WAL: readers do not disturb the running server)."""
        with closing(sqlite3.connect(self.data_dir / "fedserver.db", timeout=10)) as db:
            return db.execute(sql, params).fetchall()


def run(city: CityDir, *args: str, timeout: float = 60) -> str:
    """A `fedserver` command against the city; fails the test with its output when it fails."""
    from tests.e2e.servers import run_cli

    done = run_cli(list(args), city.env, timeout=timeout)
    assert done.returncode == 0, f"fedserver {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


def create_account(city: CityDir, username: str) -> None:
    run(city, "account", "create", username, "--email", f"{username}@example.org", "--password", PASSWORD)


def follow(city: CityDir, username: str, handle: str) -> None:
    """`username` of `city` asks to follow `handle`; the city's running server delivers the Follow."""
    done = subprocess.run([sys.executable, __file__, "follow", username, handle],
                          env={**os.environ, **city.env, "PYTHONPATH": str(CHECKOUT)}, cwd=CHECKOUT,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"follow {handle} exited {done.returncode}:\n{done.stdout}{done.stderr}"


def wait_until(what: str, probe: Callable[[], T], seconds: float = WAIT_SECONDS) -> T:
    """Poll `probe` every 0.2 s until it returns something truthy; bounded, and says what it waited for."""
    deadline = time.monotonic() + seconds
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds:.0f} s for {what}; last seen: {result!r}")
        time.sleep(0.2)


def remote_texts(city: CityDir) -> list[str]:
    """The content of every status the city received from elsewhere, in arrival order."""
    return [row[0] for row in city.rows("SELECT content_html FROM statuses WHERE is_local = 0 ORDER BY id")]


def follow_states(city: CityDir) -> list[str]:
    return [row[0] for row in city.rows("SELECT state FROM follows")]


@dataclass
class Process:
    """A running `fedserver` process of one city, with its log."""

    process: subprocess.Popen[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill_hard(self) -> None:
        """kill -9: no shutdown code runs, whatever was in flight stays as it was."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15) -> int:
        """Stop gracefully; returns the exit code (killed after `timeout`)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.process.returncode


def _start(city: CityDir, args: list[str], log_name: str) -> Process:
    from tests.e2e.servers import fedserver_command

    city.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = city.data_dir.parent / f"{log_name}-{city.port}-{time.monotonic_ns()}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([*fedserver_command(), *args], stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, text=True, env={**os.environ, **city.env})
    return Process(process, log_path)


@contextmanager
def serving(city: CityDir) -> Iterator[Process]:
    """`fedserver serve --http --allow-private-network` on the city's own port until the block ends."""
    import httpx

    from tests.e2e.servers import STARTUP_SECONDS

    server = _start(city, ["serve", "--http", "--allow-private-network", "--host", "127.0.0.1",
                           "--port", str(city.port), "--domain", city.domain, "--data-dir", str(city.data_dir)],
                    "server")
    try:
        def answers() -> bool:
            if server.process.poll() is not None:
                raise AssertionError(f"fedserver serve exited with {server.process.returncode}:\n{server.log()}")
            try:
                return httpx.get(f"{city.base_url}/.well-known/nodeinfo", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(f"{city.base_url} to answer", answers, STARTUP_SECONDS)
        yield server
    finally:
        server.stop()


@contextmanager
def working(city: CityDir) -> Iterator[Process]:
    """`fedserver worker --allow-private-network` for the city until the block ends (SIGTERM)."""
    worker = _start(city, ["worker", "--allow-private-network"], "worker")
    try:
        yield worker
    finally:
        worker.stop(signal.SIGTERM)


async def _follow_remote(username: str, handle: str) -> None:
    from fedserver.app import create_app
    from fedserver.config import load_settings
    from tests.cities import City
    from tests.federation.cities import follow as follow_in_process

    settings = load_settings()
    app = create_app(settings, run_workers=False)
    async with app.router.lifespan_context(app):
        city = City(app=app, settings=settings, client=app.state.delivery.http)
        await follow_in_process(city, username, handle)
    print(f"{username} asked to follow {handle}")


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "follow":
        print("usage: two_cities.py follow USERNAME user@host", file=sys.stderr)
        return 2
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))
    asyncio.run(_follow_remote(argv[1], argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
