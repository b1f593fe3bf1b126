"""Migration 0007 (group_removals) on SQLite and on a real PostgreSQL: it comes up with a city, holds a
removal written by the service, and goes down to 0006 and up again cleanly."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tests.cities import City, start_city
from tests.unit.alembic_support import alembic, tables
from tests.unit.api.mastodon.social import Reader

GROUPS = "/api/v1/fedserver/groups"


async def _remove_a_post(city: City) -> None:
    await city.create_account("alice")
    alice = await Reader.of(city, "alice")
    group = (await alice.post(GROUPS, username="treff")).json()
    posted = (await alice.post("/api/v1/statuses", status="@treff Doppelt gepostet")).json()
    removed = await alice.delete(f"{GROUPS}/{group['id']}/statuses/{posted['id']}", reason="doppelt")
    assert removed.status_code == 200, removed.text


async def _check_round_trip(city: City) -> None:
    async with city.site.engine.connect() as connection:
        rows = (await connection.execute(text("select reason, excerpt from group_removals"))).all()
        assert [tuple(row) for row in rows] == [("doppelt", "@treff Doppelt gepostet")]
    async with city.site.engine.begin() as connection:
        await connection.run_sync(alembic, "downgrade", "0006")
        assert "group_removals" not in await connection.run_sync(tables)
        await connection.run_sync(alembic, "upgrade", "head")
        assert "group_removals" in await connection.run_sync(tables)
        assert await connection.scalar(text("select count(*) from group_removals")) == 0


async def test_group_removals_migration_on_sqlite(tmp_path: Path) -> None:
    async with start_city(tmp_path / "moers", "moers.test") as moers:
        await _remove_a_post(moers)
        await _check_round_trip(moers)


@pytest.mark.postgres
async def test_group_removals_migration_on_postgresql(tmp_path: Path, fresh_postgres_url: str) -> None:
    async with start_city(tmp_path / "moers", "moers.test", database_url=fresh_postgres_url) as moers:
        await _remove_a_post(moers)
        await _check_round_trip(moers)
