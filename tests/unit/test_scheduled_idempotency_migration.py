"""Migration 0008 (idempotency keys of scheduled statuses) on SQLite and on a real PostgreSQL: a key may point
at a scheduled status and goes with it; going down to 0007 drops those keys and keeps the posted statuses'
ones; up again, both kinds work."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.cities import City, start_city
from tests.unit.alembic_support import alembic
from tests.unit.api.mastodon.social import Reader

KEYS = "select key, status_id is not null, scheduled_status_id is not null from idempotency_keys order by key"


async def _post_and_schedule(city: City, suffix: str) -> None:
    alice = await Reader.of(city, "alice")
    for key, body in ((f"jetzt-{suffix}", {"status": "Jetzt"}),
                      (f"spaeter-{suffix}", {"status": "Später", "scheduled_at": "2099-01-01T10:00:00Z"})):
        response = await city.client.post("/api/v1/statuses", json=body,
                                          headers={**alice.headers, "Idempotency-Key": key})
        assert response.status_code == 200, response.text


async def _check_round_trip(city: City) -> None:
    await city.create_account("alice")
    await _post_and_schedule(city, "1")
    async with city.site.engine.connect() as connection:
        assert [tuple(row) for row in (await connection.execute(text(KEYS))).all()] == [
            ("jetzt-1", True, False), ("spaeter-1", False, True)]
    async with city.site.engine.begin() as connection:
        await connection.run_sync(alembic, "downgrade", "0007")
        assert [tuple(row)[0] for row in (await connection.execute(text("select key from idempotency_keys"))).all()] \
            == ["jetzt-1"]
        await connection.run_sync(alembic, "upgrade", "head")
    await _post_and_schedule(city, "2")
    async with city.site.engine.connect() as connection:
        assert [tuple(row) for row in (await connection.execute(text(KEYS))).all()] == [
            ("jetzt-1", True, False), ("jetzt-2", True, False), ("spaeter-2", False, True)]
        with pytest.raises(IntegrityError, match="(?i)check"):  # a key must point at something
            await connection.execute(text("insert into idempotency_keys (id, account_id, key, created_at) "
                                          "select 1, account_id, 'leer', created_at from idempotency_keys limit 1"))


async def test_scheduled_idempotency_migration_on_sqlite(tmp_path: Path) -> None:
    async with start_city(tmp_path / "moers", "moers.test") as moers:
        await _check_round_trip(moers)


@pytest.mark.postgres
async def test_scheduled_idempotency_migration_on_postgresql(tmp_path: Path, fresh_postgres_url: str) -> None:
    async with start_city(tmp_path / "moers", "moers.test", database_url=fresh_postgres_url) as moers:
        await _check_round_trip(moers)
