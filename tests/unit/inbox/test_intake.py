"""The intake (fedserver/inbox/intake.py) stores accepted POSTs on SQLite the way queue.store does, and
POSTs that arrive together share one INSERT and one commit. Real SQLite files under tmp_path."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fedserver.db import create_engine, migrate, session_factory
from fedserver.inbox import intake, queue, worker
from fedserver.inbox.intake import Intake

NOW = datetime(2025, 5, 4, 12, 0, 0, 123456, tzinfo=timezone.utc)


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'moers.db'}")
    await migrate(engine)
    yield session_factory(engine)
    await engine.dispose()


def activity(number: int) -> dict[str, Any]:
    return dict(activity_ap_id=f"https://remote.test/activities/{number}", actor_ap_id="https://remote.test/users/ann",
                activity_type="Create", body='{"type": "Create"}', now=NOW)


async def stored_rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, tuple[Any, ...]]:
    """Each row as SQLite holds it (text, not what SQLAlchemy makes of it), by activity id."""
    async with sessions() as session:
        rows = (await session.execute(text(
            "SELECT activity_ap_id, actor_ap_id, activity_type, body, state, attempts, next_attempt_at, lease_until, "
            "note, received_at, typeof(id) FROM inbox_items"))).all()
    return {row[0]: tuple(row[1:]) for row in rows}


async def test_rows_are_what_queue_store_writes(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        assert await queue.store(session, **activity(1))
    assert await Intake(sessions).store(**activity(2))

    rows = await stored_rows(sessions)
    assert rows[activity(2)["activity_ap_id"]] == rows[activity(1)["activity_ap_id"]]
    assert rows[activity(2)["activity_ap_id"]][5] == "2025-05-04 12:00:00.123456"  # what claim_due compares
    async with sessions() as session, session.begin():  # and the worker finds it due
        claimed = await queue.claim_due(session, now=NOW, lease=worker.LEASE, limit=5)
    assert [item.activity_ap_id for item in claimed] == [activity(1)["activity_ap_id"], activity(2)["activity_ap_id"]]


async def test_posts_arriving_together_share_one_commit(sessions: async_sessionmaker[AsyncSession],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    commits: list[int] = []
    insert = intake._insert

    async def counting(driver: Any, rows: list[dict[str, Any]]) -> set[str]:
        commits.append(len(rows))
        return await insert(driver, rows)

    monkeypatch.setattr(intake, "_insert", counting)
    box = Intake(sessions)
    numbers = [*range(40), 7, 7]  # a redelivery, twice, among them

    with anyio.fail_after(10):
        answers = await asyncio.gather(*(box.store(**activity(number)) for number in numbers))

    assert answers == [True] * 40 + [False, False]
    assert len(await stored_rows(sessions)) == 40
    assert sum(commits) == 42 and len(commits) < 5  # not one commit per POST


async def test_posts_one_after_another_each_get_their_answer(sessions: async_sessionmaker[AsyncSession]) -> None:
    box = Intake(sessions)
    with anyio.fail_after(10):  # the writer of one POST may still be closing when the next arrives
        answers = [await box.store(**activity(number % 3)) for number in range(6)]
    assert answers == [True, True, True, False, False, False]


async def test_a_failed_commit_answers_its_posts_and_the_next_ones_are_stored(
        sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch) -> None:
    insert = intake._insert

    async def failing_once(driver: Any, rows: list[dict[str, Any]]) -> set[str]:
        monkeypatch.setattr(intake, "_insert", insert)
        raise OSError("disk full")

    monkeypatch.setattr(intake, "_insert", failing_once)
    box = Intake(sessions)
    with pytest.raises(OSError, match="disk full"):
        await box.store(**activity(1))
    assert await box.store(**activity(1))
    assert list(await stored_rows(sessions)) == [activity(1)["activity_ap_id"]]


@pytest.mark.postgres
async def test_postgresql_stores_each_post_in_its_own_transaction(fresh_postgres_url: str) -> None:
    engine = create_engine(fresh_postgres_url)
    try:
        await migrate(engine)
        sessions = session_factory(engine)
        box = Intake(sessions)
        answers = await asyncio.gather(*(box.store(**activity(number)) for number in (1, 2, 1)))
        assert sorted(answers) == [False, True, True]
        async with sessions() as session:
            assert await session.scalar(text("SELECT count(*) FROM inbox_items")) == 2
    finally:
        await engine.dispose()
