"""SQLAlchemy's aiosqlite adapter with one thread hop per statement instead of four.

aiosqlite runs each call on the connection's own thread; SQLAlchemy's adapter makes four of them per
statement (open a cursor, execute, fetch all, close), each a round trip through the event loop that costs
0.1-0.5 ms on a busy machine, against tens of microseconds of SQLite work for most queries
(bench/home_timeline.py). This cursor opens, executes, fetches and closes in one call on that thread; the
rows are buffered as the adapter buffers them anyway. Errors and everything else behave as before.
"""
from __future__ import annotations

import collections
import sqlite3
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor

_Result = tuple[Any, list[Any], int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any) -> _Result:
    """On aiosqlite's thread: the whole statement, from a cursor of its own to its rows."""
    cursor = connection.cursor()
    try:
        cursor.execute(operation, parameters if parameters is not None else ())
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, operation: str, parameters: Any) -> int:
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return cursor.rowcount
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statements each take a single trip to aiosqlite's thread."""

    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: Any) -> None:  # no aiosqlite cursor: that would be a hop of its own
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    async def _async_soft_close(self) -> None:
        return  # nothing is open on the other thread

    def close(self) -> None:
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        async with self._adapt_connection._execute_mutex:
            result: _Result = await self._connection._execute(_run, self._connection._conn, operation, parameters)
        self._description, rows, self._rowcount, self._lastrowid = result
        self._rows = collections.deque(rows)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        async with self._adapt_connection._execute_mutex:
            self._rowcount = await self._connection._execute(_run_many, self._connection._conn, operation,
                                                             seq_of_parameters)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """Cursors of one hop; and a rollback or commit with no transaction open (every read-only request
    ends with a rollback) costs no trip at all: sqlite3 would do nothing there either."""

    __slots__ = ()
    _cursor_cls = OneHopCursor

    def _in_transaction(self) -> bool:
        connection = self._connection._connection  # None once closed: the adapter then reports that
        return connection is None or bool(connection.in_transaction)

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()


def use_one_hop_cursors(dbapi_connection: Any) -> None:
    """Switch a freshly opened aiosqlite connection of SQLAlchemy's to one-hop cursors (server-side
    cursors, which nothing here uses, keep the adapter's own)."""
    if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
        dbapi_connection.__class__ = OneHopConnection
