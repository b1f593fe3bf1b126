"""SQLite write transactions take the write lock up front (BEGIN IMMEDIATE), so concurrent writers wait
for each other instead of failing with "database is locked", and readers keep running beside a writer."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fedserver.db import WRITES, create_engine, session_factory

TASKS = 20


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'counter.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        await connection.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield engine
    await engine.dispose()


async def _count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(text("SELECT n FROM counter WHERE id = 1")) or 0)


async def _read_then_write(sessions: async_sessionmaker[AsyncSession], *, in_savepoint: bool) -> None:
    """What handlers do: read a row, let other tasks run, then write what the read decided."""
    async with sessions() as session, session.begin():
        if in_savepoint:  # the inbox worker applies each activity in a savepoint
            await session.begin_nested()
        n = await session.scalar(text("SELECT n FROM counter WHERE id = 1"))
        await asyncio.sleep(0.005)
        await session.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": int(n or 0) + 1})


@pytest.mark.parametrize("in_savepoint", [False, True], ids=["plain", "savepoint"])
async def test_concurrent_read_then_write_transactions_neither_fail_nor_lose_updates(
        engine: AsyncEngine, in_savepoint: bool) -> None:
    # Before BEGIN IMMEDIATE: with the savepoint, most tasks failed with "database is locked" (a read
    # transaction cannot wait for the write lock); without it, the reads ran outside the transaction
    # and all tasks wrote 1 (lost updates).
    sessions = session_factory(engine)
    outcomes = await asyncio.gather(*(_read_then_write(sessions, in_savepoint=in_savepoint) for _ in range(TASKS)),
                                    return_exceptions=True)
    assert [repr(outcome) for outcome in outcomes if outcome is not None] == []
    assert await _count(sessions) == TASKS


async def test_reads_run_while_a_writer_holds_the_lock_and_a_second_writer_waits(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    first_wrote, first_may_commit = asyncio.Event(), asyncio.Event()

    async def first_writer() -> None:
        async with sessions() as session, session.begin():
            await session.execute(text("UPDATE counter SET n = 1 WHERE id = 1"))
            first_wrote.set()
            await first_may_commit.wait()

    async def second_writer() -> None:
        async with sessions() as session, session.begin():
            n = await session.scalar(text("SELECT n FROM counter WHERE id = 1"))
            await session.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": int(n or 0) + 10})

    first = asyncio.create_task(first_writer())
    await first_wrote.wait()
    second = asyncio.create_task(second_writer())
    # Readers are not held up by the writer (WAL): they see the last committed value at once.
    readers = await asyncio.wait_for(asyncio.gather(*(_count(sessions) for _ in range(5))), timeout=5)
    assert readers == [0] * 5
    await asyncio.sleep(0.2)
    assert not second.done(), "the second writer must wait for the lock, not read stale data or fail"
    first_may_commit.set()
    await asyncio.wait_for(asyncio.gather(first, second), timeout=10)
    assert await _count(sessions) == 11


async def test_a_session_without_begin_reads_unlocked_and_waits_for_the_lock_to_write(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    holding, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with sessions() as session, session.begin():
            await session.execute(text("UPDATE counter SET n = 5 WHERE id = 1"))
            holding.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await holding.wait()
    async with sessions() as session:
        assert await session.scalar(text("SELECT n FROM counter WHERE id = 1")) == 0
        update = asyncio.create_task(session.execute(text("UPDATE counter SET n = n + 1 WHERE id = 1")))
        await asyncio.sleep(0.2)
        assert not update.done()
        release.set()
        await asyncio.wait_for(update, timeout=10)
        await session.commit()
    await task
    assert await _count(sessions) == 6


async def test_only_begun_sessions_on_sqlite_are_writers(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session:
        assert not session.get_bind().get_execution_options().get(WRITES)
        async with session.begin():
            assert session.get_bind().get_execution_options().get(WRITES)
        assert not session.get_bind().get_execution_options().get(WRITES)


async def test_postgresql_sessions_are_left_as_they_were() -> None:
    engine = create_engine("postgresql+asyncpg://fedserver@127.0.0.1:1/none")  # never connected
    try:
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            assert session.get_bind() is engine.sync_engine
    finally:
        await engine.dispose()
