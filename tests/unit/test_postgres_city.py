"""The same city on a real PostgreSQL server: migrations, accounts, posts, the outbox."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tests.cities import start_city

pytestmark = pytest.mark.postgres
AP = {"Accept": "application/activity+json"}


async def test_city_runs_on_postgresql(tmp_path: Path, fresh_postgres_url: str) -> None:
    async with start_city(tmp_path / "moers", "moers.test", database_url=fresh_postgres_url) as moers:
        assert moers.site.engine.dialect.name == "postgresql"
        await moers.create_account("alice")
        first = await moers.post("alice", "Hallo aus Moers #Moers")
        second = await moers.post("alice", "Zweiter Beitrag")
        page = (await moers.client.get("/users/alice/outbox?page=true", headers=AP)).json()
        assert [item["object"]["id"] for item in page["orderedItems"]] == [second.ap_id, first.ap_id]
        finger = await moers.client.get("/.well-known/webfinger", params={"resource": "acct:alice@moers.test"})
        assert finger.status_code == 200
        nodeinfo = (await moers.client.get("/nodeinfo/2.1")).json()
        assert nodeinfo["usage"]["localPosts"] == 2
        async with moers.site.engine.connect() as connection:
            version = await connection.scalar(text("select version_num from alembic_version"))
            big = await connection.scalar(text("select data_type from information_schema.columns "
                                               "where table_name = 'statuses' and column_name = 'id'"))
        assert version is not None
        assert big == "bigint"


async def test_migrations_are_idempotent_on_postgresql(tmp_path: Path, fresh_postgres_url: str) -> None:
    async with start_city(tmp_path / "a", "moers.test", database_url=fresh_postgres_url) as moers:
        await moers.create_account("alice")
    async with start_city(tmp_path / "b", "moers.test", database_url=fresh_postgres_url) as moers:
        response = await moers.client.get("/users/alice", headers=AP)
        assert response.status_code == 200
