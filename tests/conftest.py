"""Shared pytest fixtures; each section below belongs to one concern and says so."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# ---------------------------------------------------------------------------------------------
# PostgreSQL: a real server from the installed binaries (logic in tests/postgres_server.py).
# Mark tests that use these fixtures with @pytest.mark.postgres.
# ---------------------------------------------------------------------------------------------
try:  # tests/ as a package (tests/__init__.py) or as a plain directory on sys.path
    from tests.postgres_server import PostgresServer, PostgresUnavailable
except ModuleNotFoundError:
    from postgres_server import PostgresServer, PostgresUnavailable  # type: ignore[no-redef]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session; skips without binaries, fails under CI=true."""
    try:
        server = PostgresServer.create()
    except PostgresUnavailable as exc:
        # CI installs PostgreSQL (scripts/test): a missing server there is a broken setup, not a skip.
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"CI=true but {exc}")
        pytest.skip(str(exc))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """postgresql+asyncpg:// URL of the session's shared database `fedserver_test`."""
    return postgres_server.url(postgres_server.create_database("fedserver_test"))


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """postgresql+asyncpg:// URL of a new empty database, dropped after the test."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)

# ---------------------------------------------------------------------------------------------
# end of PostgreSQL section
# ---------------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------
# Cities: in-process instances on real SQLite files (logic in tests/cities.py).
# ---------------------------------------------------------------------------------------------
try:
    from tests.cities import City, start_city
except ModuleNotFoundError:
    from cities import City, start_city  # type: ignore[no-redef]

from collections.abc import AsyncIterator  # noqa: E402
from pathlib import Path  # noqa: E402


@pytest.fixture
async def moers(tmp_path: Path) -> AsyncIterator[City]:
    """The city of Moers at https://moers.test on a fresh SQLite file."""
    async with start_city(tmp_path / "moers", "moers.test") as city:
        yield city
