"""The SQLite database runs with WAL, foreign keys and secure_delete (DESIGN.md, privacy promises)."""
from __future__ import annotations

from sqlalchemy import text

from tests.cities import City


async def test_sqlite_pragmas_are_on(moers: City) -> None:
    async with moers.site.engine.connect() as connection:
        assert (await connection.scalar(text("PRAGMA journal_mode"))) == "wal"
        assert (await connection.scalar(text("PRAGMA foreign_keys"))) == 1
        assert (await connection.scalar(text("PRAGMA secure_delete"))) == 1


async def test_deleted_text_is_not_left_in_the_database_file(moers: City) -> None:
    from fedserver.db import utcnow
    from fedserver.local import statuses

    await moers.create_account("alice")
    secret = "Geheimnis-" + "x7q" * 10
    status = await moers.post("alice", secret)
    async with moers.site.sessions() as session, session.begin():
        row, author = await statuses.find_local(session, status.id)
        await statuses.delete(session, moers.site.urls, row, author, now=utcnow())
    async with moers.site.engine.connect() as connection:
        await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    database = moers.settings.data_dir / "fedserver.db"
    for path in (database, database.with_name("fedserver.db-wal")):
        if path.exists():
            assert secret.encode() not in path.read_bytes(), path
