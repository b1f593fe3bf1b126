"""Storing verified inbox POSTs durably before the 202; on SQLite, POSTs that arrive together share one commit.

SQLite has one writer at a time. Concurrent POSTs each writing on their own pooled connection
waited for one another inside SQLite's busy handler (sleeping, retrying), and each paid five
driver round trips through SQLAlchemy. Here the rows of all POSTs waiting at a moment go into one
multi-row INSERT and one commit on one connection (group commit); every POST still gets its 202
only after the commit that holds its row. PostgreSQL takes concurrent writers as they come.
"""
from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fedserver.db import Base
from fedserver.inbox import queue
from fedserver.inbox.queue import InboxItem

MAX_ROWS = 500  # rows per INSERT: 11 parameters each stays far below SQLite's limit
_RETURNING = sqlite3.sqlite_version_info >= (3, 35)  # INSERT ... RETURNING tells which rows were new


class Intake:
    """The one way inbox routes store what they accepted; one per app."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        engine = sessions.kw.get("bind")
        self._sqlite = engine if isinstance(engine, AsyncEngine) and engine.dialect.name == "sqlite" \
            and _RETURNING else None
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        # Held by each write transaction of the inbox in this process (this writer, the inbox worker), taken
        # before SQLite's lock: waiting here, the POSTs' rows are written the moment the worker's transaction
        # ends. Waiting in SQLite's busy handler instead, they slept up to tens of ms past it, and the
        # worker's next transaction often took the lock first.
        self.turn = asyncio.Lock()

    async def store(self, *, activity_ap_id: str, actor_ap_id: str, activity_type: str, body: str,
                    now: datetime) -> bool:
        """Store the activity unless we have it already, committed before this returns; True when it is new."""
        if self._sqlite is None:
            async with self.sessions() as session, session.begin():
                return await queue.store(session, activity_ap_id=activity_ap_id, actor_ap_id=actor_ap_id,
                                         activity_type=activity_type, body=body, now=now)
        row = queue.new_row(activity_ap_id=activity_ap_id, actor_ap_id=actor_ap_id, activity_type=activity_type,
                            body=body, now=now)
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, stored))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting(self._sqlite))
        return await asyncio.shield(stored)  # a POST given up by its client does not stop the others' commit

    async def _write_waiting(self, engine: AsyncEngine) -> None:
        """Write what is waiting, in turns on one connection, until nothing is; each turn is one transaction.
        The last turn is answered once the connection is back in the pool, so an app that stops right
        after its last POST leaves no connection out (app.py disposes the engine then)."""
        while self._waiting:  # checked again after the connection went back: rows may have come meanwhile
            answers: list[tuple[asyncio.Future[bool], bool | BaseException]] = []
            try:
                async with engine.connect() as connection:
                    driver: Any = (await connection.get_raw_connection()).driver_connection  # aiosqlite.Connection
                    while self._waiting:
                        _settle(answers)  # more came meanwhile: answer the last turn before writing the next
                        async with self.turn:
                            answers = await self._write_turn(driver)
            except BaseException as exc:  # no connection, or stopped: nothing waiting may wait forever
                waiting, self._waiting = self._waiting, []
                _settle(answers + [(stored, exc) for _, stored in waiting])
                if not isinstance(exc, Exception):
                    raise
            _settle(answers)

    async def _write_turn(self, driver: Any) -> list[tuple[asyncio.Future[bool], bool | BaseException]]:
        """Insert and commit the rows waiting now (at most MAX_ROWS); what each of their POSTs is to be told."""
        turn, self._waiting = self._waiting[:MAX_ROWS], self._waiting[MAX_ROWS:]
        try:
            new = await _insert(driver, [row for row, _ in turn])
        except Exception as exc:  # every POST of this turn answers the error; the next turn tries afresh
            return [(stored, exc) for _, stored in turn]
        except BaseException as exc:
            _settle([(stored, exc) for _, stored in turn])
            raise
        answers: list[tuple[asyncio.Future[bool], bool | BaseException]] = []
        for row, stored in turn:
            answers.append((stored, row["activity_ap_id"] in new))
            new.discard(row["activity_ap_id"])  # a second copy in the same turn was not new
        return answers


def _settle(answers: list[tuple[asyncio.Future[bool], bool | BaseException]]) -> None:
    for stored, outcome in answers:
        if stored.done():
            continue
        if isinstance(outcome, Exception):
            stored.set_exception(outcome)
        elif isinstance(outcome, BaseException):
            stored.set_exception(RuntimeError("the intake was stopped"))
        else:
            stored.set_result(outcome)


async def _insert(driver: Any, rows: list[dict[str, Any]]) -> set[str]:
    """One INSERT of all rows and one commit on the driver's connection; the activity ids that were new."""
    columns = _sqlite_columns()
    parameters = [convert(row[name]) if convert else row[name] for row in rows for name, convert in columns]
    values = ", ".join(["(" + ", ".join("?" * len(columns)) + ")"] * len(rows))
    sql = (f"INSERT INTO {InboxItem.__tablename__} ({', '.join(name for name, _ in columns)}) VALUES {values} "
           "ON CONFLICT (activity_ap_id) DO NOTHING RETURNING activity_ap_id")
    # SQLAlchemy's own execution spends five thread round trips on a statement (cursor, execute, close,
    # commit, reset); the driver needs two.
    try:
        new = {row[0] for row in await driver.execute_fetchall(sql, parameters)}
        if driver.in_transaction:  # begun implicitly by the driver
            await driver.commit()
    except BaseException:
        if driver.in_transaction:
            await driver.rollback()
        raise
    return new


@functools.cache
def _sqlite_columns() -> list[tuple[str, Callable[[Any], Any] | None]]:
    """Each column of inbox_items with the conversion SQLAlchemy applies on SQLite (UTC datetimes as text)."""
    dialect = sqlite.dialect()
    return [(column.name, column.type.dialect_impl(dialect).bind_processor(dialect))
            for column in Base.metadata.tables[InboxItem.__tablename__].columns]
