"""CompiledRead (fedserver/compiled_read.py) gives the rows SQLAlchemy's own execute gives, on SQLite (its own
compiled path, rows folded into JSON) and on PostgreSQL (SQLAlchemy's path): bound and converted values (aware
datetimes, booleans, text JSON must escape, exact floats), IN lists of every length, values the statement was
built with, unions; it refuses a missing parameter, and on SQLite it is one trip to the driver."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (BigInteger, Boolean, Column, Float, MetaData, String, Table, bindparam, insert, literal,
                        select, union_all)
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase

from fedserver.compiled_read import CompiledRead
from fedserver.db import UTCDateTime, create_engine, session_factory
from tests.unit.sqlite_hops import count_hops

metadata = MetaData()
notes = Table("compiled_notes", metadata,
              Column("id", BigInteger, primary_key=True, autoincrement=False),
              Column("body", String(64), nullable=False),
              Column("kind", String(16), nullable=False),
              Column("is_public", Boolean, nullable=False),
              Column("published_at", UTCDateTime, nullable=False),
              Column("edited_at", UTCDateTime, nullable=True),
              Column("score", Float, nullable=True))



class _Base(DeclarativeBase):
    metadata = metadata


class Note(_Base):
    __table__ = notes


START = datetime(2026, 11, 25, 14, 28, 40, 123456, tzinfo=timezone.utc)
QUOTE = 'Zitat: "Moers" \\ 🎉\n<p>'  # what JSON must escape
IDS = bindparam("ids", expanding=True)

_TEXT_AND_TIMES = [column for column in notes.c if column.name != "score"]
BY_ID = select(*_TEXT_AND_TIMES).where(notes.c.id.in_(IDS)).order_by(notes.c.id)
# A floating-point column: JSON would round it (SQLite prints 15 digits), so these rows are read one by one.
SCORED = select(notes.c.id, notes.c.score).where(notes.c.id.in_(IDS)).order_by(notes.c.id.desc())
# A list given when the statement is built (expanding too, but with its own value) beside a parameter.
BY_KIND = (select(notes.c.id, notes.c.published_at).where(notes.c.kind.in_(["note", "event"]),
                                                          notes.c.published_at >= bindparam("since", type_=UTCDateTime))
           .order_by(notes.c.id.desc()))
# literal() values in a union, an optional parameter with a default, the same column name twice.
FACTS = union_all(
    select(literal(1), notes.c.id, notes.c.is_public).where(notes.c.id.in_(IDS)),
    select(literal(2), notes.c.id, notes.c.is_public).where(notes.c.id == bindparam("one", value=3)))
_OTHER = notes.alias("other")
TWICE = (select(notes.c.id, notes.c.edited_at, _OTHER.c.id).join(_OTHER, _OTHER.c.id == notes.c.id + 1)
         .where(notes.c.id == bindparam("one")))


async def _fill(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(insert(notes), [
            {"id": n, "body": f"Beitrag {n}" if n != 7 else QUOTE, "score": 0.1 * n + 0.2,
             "kind": ("note", "event", "page")[n % 3], "is_public": n % 2 == 0,
             "published_at": START + timedelta(minutes=n),
             "edited_at": START + timedelta(hours=n) if n % 4 == 0 else None}
            for n in range(1, 13)])


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'compiled.db'}")
    await _fill(engine)
    yield engine
    await engine.dispose()


CASES: list[tuple[Any, dict[str, Any]]] = [
    (BY_ID, {"ids": [3, 1, 2]}),
    (BY_ID, {"ids": [5, 6, 7, 8, 9]}),  # another length: another SQL text
    (BY_ID, {"ids": [4]}),
    (BY_ID, {"ids": [2, 1, 3]}),        # the first length again, other values
    (BY_ID, {"ids": []}),
    (BY_KIND, {"since": START + timedelta(minutes=6)}),
    (FACTS, {"ids": [4, 5]}),
    (FACTS, {"ids": [4, 5], "one": 8}),  # the default of `one` overridden
    (TWICE, {"one": 4}),
    (SCORED, {"ids": [1, 2, 7]}),
]


async def _same_rows_as_sqlalchemy(session: AsyncSession) -> None:
    for statement, params in CASES:
        expected = (await session.execute(statement, params)).all()
        got = await CompiledRead(statement).rows(session, params)
        assert [tuple(row) for row in got] == [tuple(row) for row in expected], (statement, params)
        for row, want in zip(got, expected):
            assert [type(value) for value in row] == [type(value) for value in want]
    # One CompiledRead across calls, as the application keeps them: each length gets its own SQL text.
    read = CompiledRead(BY_ID)
    for ids in ([1, 2], [3, 4, 5], [6, 7], [], [8]):
        assert [row.id for row in await read.rows(session, {"ids": ids})] == sorted(ids)


async def test_rows_match_sqlalchemys_on_sqlite(sqlite_engine: AsyncEngine) -> None:
    async with session_factory(sqlite_engine)() as session:
        await _same_rows_as_sqlalchemy(session)
        row = (await CompiledRead(BY_ID).rows(session, {"ids": [4]}))[0]
        assert (row.body, row.is_public, row.published_at) == ("Beitrag 4", True, START + timedelta(minutes=4))
        assert row.published_at.tzinfo == timezone.utc and row.edited_at == START + timedelta(hours=4)
        assert (await CompiledRead(BY_ID).rows(session, {"ids": [7]}))[0].body == QUOTE
        assert [row.score for row in await CompiledRead(SCORED).rows(session, {"ids": [1]})] == [0.1 + 0.2]


async def test_sqlite_sends_the_rows_as_one_json_array(sqlite_engine: AsyncEngine,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """One row to step to instead of one per row (the module's text says why); floating point excepted."""
    from fedserver import sqlite_driver

    sent: list[str] = []
    original = sqlite_driver._run
    monkeypatch.setattr(sqlite_driver, "_run", lambda connection, sql, values: (
        sent.append(sql), original(connection, sql, values))[1])
    async with session_factory(sqlite_engine)() as session:
        assert len(await CompiledRead(BY_ID).rows(session, {"ids": [1, 2, 3]})) == 3
        assert len(await CompiledRead(SCORED).rows(session, {"ids": [1, 2, 3]})) == 3
    assert "json_group_array" in sent[0] and "json_group_array" not in sent[1]


@pytest.mark.postgres
async def test_rows_match_sqlalchemys_on_postgresql(fresh_postgres_url: str) -> None:
    engine = create_engine(fresh_postgres_url)
    try:
        await _fill(engine)
        async with session_factory(engine)() as session:
            await _same_rows_as_sqlalchemy(session)
    finally:
        await engine.dispose()


async def test_a_missing_parameter_is_refused(sqlite_engine: AsyncEngine) -> None:
    async with session_factory(sqlite_engine)() as session:
        with pytest.raises(InvalidRequestError, match="since"):
            await CompiledRead(BY_KIND).rows(session, {})
        with pytest.raises(InvalidRequestError, match="ids"):
            await CompiledRead(BY_ID).rows(session, {})


async def test_pending_changes_are_flushed_first(sqlite_engine: AsyncEngine) -> None:
    """As the ORM's autoflush: what the session added is in the rows."""
    async with session_factory(sqlite_engine)() as session:
        session.add(Note(id=99, body="neu", kind="note", is_public=True, published_at=START))
        assert [row.body for row in await CompiledRead(BY_ID).rows(session, {"ids": [99]})] == ["neu"]
        await session.rollback()


async def test_a_read_is_one_trip_to_sqlite(sqlite_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    async with session_factory(sqlite_engine)() as session:
        await session.connection()  # the connection is open; only the statement is counted
        hops = count_hops(monkeypatch)
        assert len(await CompiledRead(BY_ID).rows(session, {"ids": [1, 2]})) == 2
        assert hops == ["_run"]
