"""The PostgreSQL fixtures start a real server and hand out working, separate databases."""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import asyncpg
import pytest

if TYPE_CHECKING:
    from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.postgres


def _dsn(sqlalchemy_url: str) -> str:
    # asyncpg speaks plain postgresql:// DSNs; the fixtures hand out SQLAlchemy URLs.
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _database_of(url: str) -> str:
    connection = await asyncpg.connect(_dsn(url), timeout=10)
    try:
        assert await connection.fetchval("select 1") == 1
        return str(await connection.fetchval("select current_database()"))
    finally:
        await connection.close()


def test_postgres_url_is_a_loopback_asyncpg_url(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+asyncpg://")
    assert "@127.0.0.1:" in postgres_url
    assert postgres_url.endswith("/fedserver_test")


async def test_postgres_url_answers_select_1(postgres_url: str) -> None:
    assert await _database_of(postgres_url) == "fedserver_test"


@pytest.fixture
def second_fresh_postgres_url(postgres_server: PostgresServer, fresh_postgres_url: str) -> Iterator[str]:
    # fresh_postgres_url is one value per test: make a second database the same way.
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


async def test_fresh_databases_are_distinct_and_empty(
    fresh_postgres_url: str, second_fresh_postgres_url: str
) -> None:
    first = await _database_of(fresh_postgres_url)
    second = await _database_of(second_fresh_postgres_url)
    assert first != second
    connection = await asyncpg.connect(_dsn(fresh_postgres_url), timeout=10)
    try:
        await connection.execute("create table marker (id int)")
    finally:
        await connection.close()
    connection = await asyncpg.connect(_dsn(second_fresh_postgres_url), timeout=10)
    try:
        tables = await connection.fetch("select tablename from pg_tables where schemaname = 'public'")
    finally:
        await connection.close()
    assert tables == []


async def test_drop_database_removes_it(postgres_server: PostgresServer) -> None:
    name = postgres_server.create_database()
    postgres_server.drop_database(name)
    connection = await asyncpg.connect(_dsn(postgres_server.url("postgres")), timeout=10)
    try:
        assert await connection.fetchval("select 1 from pg_database where datname = $1", name) is None
    finally:
        await connection.close()
