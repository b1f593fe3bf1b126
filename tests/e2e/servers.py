"""Real `fedserver serve` processes on loopback ports, started and stopped by tests."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_SECONDS = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fedserver_command() -> list[str]:
    """The installed console script, run with this test's interpreter."""
    return [sys.executable, "-m", "fedserver.cli"]


def run_cli(args: Sequence[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*fedserver_command(), *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@dataclass
class Server:
    process: subprocess.Popen[str]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def serve(data_dir: Path, *extra: str, database_url: str | None = None) -> Iterator[Server]:
    """Start a server on a free port with http URLs; wait until it answers; stop it afterwards."""
    port = free_port()
    domain = f"127.0.0.1:{port}"
    args = ["serve", "--http", "--host", "127.0.0.1", "--port", str(port), "--domain", domain,
            "--data-dir", str(data_dir), *extra]
    if database_url:
        args += ["--database-url", database_url]
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"server-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([*fedserver_command(), *args], stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, text=True)
    server = Server(process, f"http://{domain}", log_path)
    try:
        _wait_until_up(server)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"fedserver serve exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/.well-known/nodeinfo", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"fedserver serve did not answer within {STARTUP_SECONDS} s:\n{server.log()}")
