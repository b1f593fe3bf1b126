"""The schema the migrations build is the schema the models declare: Alembic's autogenerate finds nothing
to add, drop or change after `upgrade head` (a model changed without its migration fails here)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

import fedserver.inbox.queue  # noqa: F401  (every table registered on Base.metadata, as migrations/env.py does)
import fedserver.local.models  # noqa: F401
import fedserver.outbox.deliveries  # noqa: F401
import fedserver.outbox.published  # noqa: F401
from fedserver.db import Base, create_engine, migrate


# Full-text search lives in the migrations only (0005): an FTS5 table and its shadow tables on SQLite, an
# expression index on PostgreSQL; SQLAlchemy's models cannot declare either.
SEARCH_ONLY = ("status_search", "ix_statuses_search")


def _declared(item: Any, name: str | None, kind: str, reflected: bool, _compared_to: Any) -> bool:
    return not (reflected and name is not None and name.startswith(SEARCH_ONLY))


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": _declared})
    return list(compare_metadata(context, Base.metadata))


async def _check(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_migrations_match_models_on_sqlite(tmp_path: Path) -> None:
    await _check(f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}")


@pytest.mark.postgres
async def test_migrations_match_models_on_postgresql(fresh_postgres_url: str) -> None:
    await _check(fresh_postgres_url)
