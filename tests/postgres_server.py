"""A throwaway PostgreSQL server for tests: its own cluster in a temp dir, on a free loopback port."""
from __future__ import annotations

import asyncio
import concurrent.futures
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import asyncpg

T = TypeVar("T")

SUPERUSER = "fedserver"            # the cluster's superuser; trust auth, so no password
FALLBACK_SYSTEM_USER = "fedserver-pg"
START_TIMEOUT_S = 60

# Test speed over durability: the cluster is deleted after the session anyway.
_SETTINGS = """
listen_addresses = '127.0.0.1'
unix_socket_directories = '{socket_dir}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
"""


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries (initdb, pg_ctl) are not installed."""


def find_bin_dir() -> Path:
    """The directory holding initdb and pg_ctl; raises PostgresUnavailable naming where it looked."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        # /usr/local/bin/initdb may be a symlink into Debian's /usr/lib/postgresql/N/bin: use the
        # real directory, where pg_ctl also finds the matching `postgres` binary.
        candidates.append(Path(on_path).resolve().parent)
    # Debian keeps server binaries off PATH; prefer the newest major version.
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    candidates += [Path(path) for path in versions]
    candidates += [Path("/usr/local/bin"), Path("/usr/local/pgsql/bin")]
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH, in /usr/lib/postgresql/*/bin "
        "or /usr/local/bin; install the Debian package `postgresql` (scripts/test does this as root)"
    )


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _system_user_for_root() -> str:
    """initdb and postgres refuse to run as root: use Debian's `postgres` user, or create one."""
    for name in ("postgres", FALLBACK_SYSTEM_USER):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            pass
    subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", FALLBACK_SYSTEM_USER],
        check=True, capture_output=True, text=True,
    )
    return FALLBACK_SYSTEM_USER


def _run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a private thread, so it never touches a test's event loop."""
    async def main() -> T:
        return await make()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


@dataclass
class PostgresServer:
    """One cluster: initdb'd into base_dir, served on 127.0.0.1:port, sockets in base_dir."""

    bin_dir: Path
    base_dir: Path
    run_as: str | None = None     # system user that owns and runs the cluster when we are root
    port: int = 0

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    @classmethod
    def create(cls) -> PostgresServer:
        """Find the binaries and initialise an empty cluster in a new temp dir (not yet started)."""
        bin_dir = find_bin_dir()
        run_as = _system_user_for_root() if os.geteuid() == 0 else None
        # As root, /tmp rather than $TMPDIR: the postgres user must be able to reach the directory.
        base_dir = Path(tempfile.mkdtemp(prefix="fedserver-pg-", dir="/tmp" if run_as else None))
        server = cls(bin_dir=bin_dir, base_dir=base_dir, run_as=run_as)
        try:
            if run_as:
                user = pwd.getpwnam(run_as)
                os.chown(base_dir, user.pw_uid, user.pw_gid)
            # Trust auth is safe here: the server listens on 127.0.0.1 and a private socket dir only.
            server._run("initdb", "--pgdata", str(server.data_dir), "--username", SUPERUSER,
                        "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync")
            with open(server.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
                conf.write(_SETTINGS.format(socket_dir=base_dir))
        except BaseException:
            shutil.rmtree(base_dir, ignore_errors=True)
            raise
        return server

    def start(self) -> None:
        """Start on a free port; a port taken between choosing and binding is retried."""
        for _attempt in range(3):
            self.port = free_port()
            try:
                self._run("pg_ctl", "start", "--pgdata", str(self.data_dir), "--wait",
                          f"--timeout={START_TIMEOUT_S}", "--log", str(self.log_file),
                          "-o", f"-p {self.port}")
                return
            except RuntimeError:
                if "already in use" not in self._log_tail():
                    raise
        raise RuntimeError(f"PostgreSQL found no free port:\n{self._log_tail()}")

    def stop(self) -> None:
        """Stop the server (fast, then immediate) and delete the cluster directory."""
        try:
            if (self.data_dir / "postmaster.pid").exists():
                try:
                    self._run("pg_ctl", "stop", "--pgdata", str(self.data_dir), "--wait", "-m", "fast")
                except RuntimeError:
                    self._run("pg_ctl", "stop", "--pgdata", str(self.data_dir), "--wait", "-m", "immediate")
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        """The SQLAlchemy URL of one database (driver="postgresql" gives a plain libpq/asyncpg DSN)."""
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database and return its name (a fresh unique one when name is None)."""
        name = name or f"fedserver_t_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database even if a test left connections open (FORCE: PostgreSQL 13+)."""
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        async def execute() -> None:
            connection = await asyncpg.connect(self.url("postgres", driver="postgresql"), timeout=30)
            try:
                await connection.execute(sql)
            finally:
                await connection.close()

        _run_async(execute)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        # cwd: the postgres user may not be allowed into the caller's cwd (e.g. /root).
        result = subprocess.run(command, cwd=self.base_dir, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=START_TIMEOUT_S + 30)
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}\n{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""
