"""SQLite statements take one trip to aiosqlite's thread (fedserver/sqlite_driver.py) and behave as before:
rows, rowcount, lastrowid, executemany, errors, transactions; and a read-only session ends without a trip.
Also commits_seen (db.py), which counts the committed transactions that changed rows."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from fedserver.db import commits_seen, create_engine, session_factory
from fedserver.sqlite_driver import OneHopConnection
from tests.unit.sqlite_hops import count_hops


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hops.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)"))
    yield engine
    await engine.dispose()


async def test_connections_use_one_hop_cursors(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert type(raw.dbapi_connection) is OneHopConnection


async def test_a_select_is_one_hop_and_a_read_only_session_ends_without_one(
        engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await session.execute(text("INSERT INTO notes (body) VALUES ('a'), ('b')"))
    async with sessions() as session:  # warm: the pool holds an open connection
        await session.execute(text("SELECT 1"))
    hops = count_hops(monkeypatch)
    async with sessions() as session:
        rows = (await session.execute(text("SELECT id, body FROM notes ORDER BY id"))).all()
    assert [tuple(row) for row in rows] == [(1, "a"), (2, "b")]
    assert hops == ["_run"]  # before: cursor, execute, fetchall, close, and a rollback at the end


async def test_writes_report_rowcount_and_lastrowid_and_commit(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    before = commits_seen()
    async with sessions() as session, session.begin():
        inserted = await session.execute(text("INSERT INTO notes (body) VALUES ('x')"))
        assert inserted.lastrowid == 1
        await session.execute(text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "y"}, {"body": "z"}])
        updated = await session.execute(text("UPDATE notes SET body = body || '!' WHERE id > 1"))
        assert updated.rowcount == 2
    assert commits_seen() == before + 1
    async with sessions() as session:
        assert (await session.scalars(text("SELECT body FROM notes ORDER BY id"))).all() == ["x", "y!", "z!"]


async def test_a_rolled_back_write_is_gone_and_errors_keep_their_types(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session:
        await session.execute(text("INSERT INTO notes (body) VALUES ('kept only until rollback')"))
        await session.rollback()
        assert await session.scalar(text("SELECT count(*) FROM notes")) == 0
    async with sessions() as session, session.begin():
        await session.execute(text("INSERT INTO notes (body) VALUES ('once')"))
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO notes (body) VALUES ('once')"))
    with pytest.raises(OperationalError, match="no such table"):
        async with sessions() as session:
            await session.execute(text("SELECT * FROM missing"))
    async with sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM notes")) == 1


async def test_commits_seen_counts_only_transactions_that_changed_rows(engine: AsyncEngine) -> None:
    # Entity caches (api/mastodon/entities/account_cache.py) are emptied when this count moves: the workers'
    # idle rounds commit claims that match nothing, and those must not empty them several times a second.
    sessions = session_factory(engine)
    before = commits_seen()
    async with sessions() as session, session.begin():
        await session.execute(text("SELECT count(*) FROM notes"))
        await session.execute(text("UPDATE notes SET body = 'never' WHERE id < 0"))
    assert commits_seen() == before
    async with sessions() as session, session.begin():
        await session.execute(text("INSERT INTO notes (body) VALUES ('seen')"))
        await session.rollback()
    assert commits_seen() == before
    async with engine.begin() as connection:  # Core, outside any session
        await connection.execute(text("DELETE FROM notes WHERE body = 'nothing' OR id > 0"))
        await connection.execute(text("INSERT INTO notes (body) VALUES ('core')"))
    assert commits_seen() == before + 1


async def test_commits_seen_tells_writing_ctes_from_reading_ones_every_time(engine: AsyncEngine) -> None:
    # Whether a statement writes is remembered per statement text (db._is_write): asked again, the answer
    # for each statement must stay its own.
    sessions = session_factory(engine)
    reading = "WITH wanted AS (SELECT 'updated' AS body) SELECT count(*) FROM notes, wanted"
    writing = "WITH wanted AS (SELECT :body AS body) INSERT INTO notes (body) SELECT body FROM wanted"
    before = commits_seen()
    for round_ in range(2):
        async with sessions() as session, session.begin():
            await session.execute(text(reading))
        assert commits_seen() == before + round_
        async with sessions() as session, session.begin():
            await session.execute(text(writing), {"body": f"written {round_}"})
        assert commits_seen() == before + round_ + 1
