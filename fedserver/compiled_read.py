"""Read statements compiled once and run straight on SQLite's driver, for the hottest pages.

SQLAlchemy's execute pipeline (the cache key of a large statement and its lookup, an execution context, the
result object) cost about 0.3 ms of the event loop's time per statement of a home page, a fifth of the page
(bench/home_timeline.py). On SQLite a CompiledRead compiles its SELECT once and then does only what a read
needs: it binds the parameters through the same bind processors (expanding IN lists included), runs the SQL
with one trip to aiosqlite's thread and converts the columns with the same result processors, so its rows
hold what SQLAlchemy's own execute gives (tests/unit/test_compiled_read.py compares them). On PostgreSQL
it is SQLAlchemy's execute: result processors there depend on the types the server reports per query, and
a city on PostgreSQL runs several workers anyway.

The rows come back as one JSON array in a single row. Python's sqlite3 releases the GIL for every row it
steps to and must take it back for the next; under load each retake waits behind the event loop's own work,
so a page of 40 rows was 40 waits: 8.8 ms on the thread for 1.1 ms of SQLite work, with eight requests in
flight. SQLite builds the array itself (json_group_array) and the event loop decodes it with orjson: one
wait a statement, +10-15 % pages/s. Columns whose values a JSON text would change (floating point, binary)
keep the row-by-row read.

For plain reads only: a statement that writes would escape the engine's write detector (db._note_write).
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import CompoundSelect, Select, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import sqltypes
from sqlalchemy.sql.compiler import SQLCompiler

from fedserver.sqlite_driver import OneHopConnection

Processor = Callable[[Any], Any]
ReadStatement = Select[Any] | CompoundSelect[Any]


# A parameter slot of a compiled statement: its name, the index into an expanded list (None for a plain
# value), its bind processor, and the value it takes when the call gives none (_REQUIRED: it must be given).
_Slot = tuple[str, int | None, Processor | None, Any]
_REQUIRED = object()
_MAX_EXPANSIONS = 128  # SQL texts kept per statement, one per combination of list lengths
_NOT_JSON = (sqltypes.Float, sqltypes.Numeric, sqltypes._Binary)  # values a JSON text would not keep exactly


class _Plan:
    """One statement compiled for SQLite: how to bind its parameters and read its rows."""

    def __init__(self, statement: ReadStatement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler) and compiled.positional, "SQLite binds by position"
        self._compiled = compiled
        columns = compiled._result_columns
        self._as_json = bool(columns) and not any(
            issubclass(column.type._type_affinity or sqltypes.NullType, _NOT_JSON) for column in columns)
        self._width = len(columns)
        self._expanding = sorted({compiled.bind_names[bind] for bind in compiled.post_compile_params})
        assert not compiled.literal_execute_params, "literal_execute parameters are rendered per value"
        # Expanding (IN) lists make the SQL text depend on their lengths: one text per combination, built by
        # SQLAlchemy the first time (construct_expanded_state), then only the values are filled in.
        self._expansions: dict[tuple[int, ...], tuple[str, list[_Slot]]] = {}
        self._plain = (self._sql(compiled.string), self._slots(compiled.positiontup or [], {}, {}))
        self._result_processors: list[tuple[int, Processor]] = [
            (index, processor) for index, column in enumerate(columns)
            if (processor := column.type._cached_result_processor(dialect, None)) is not None]
        row_type = namedtuple("CompiledRow", [column.keyname for column in columns], rename=True)  # type: ignore[misc]
        self._make_row: Callable[[Iterable[Any]], Any] = row_type._make

    def _slots(self, order: Sequence[str], expanded: Mapping[str, tuple[str, int]],
               processors: Mapping[str, Any]) -> list[_Slot]:
        compiled, every_processor = self._compiled, {**self._compiled._bind_processors, **processors}
        slots: list[_Slot] = []
        for key in order:
            name, index = expanded.get(key, (key, None))
            bind = compiled.binds[name]
            default = _REQUIRED if bind.required else bind.effective_value
            slots.append((name, index, every_processor.get(key), default))
        return slots

    def bind(self, params: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
        """The SQL (IN lists expanded to their length) and its positional parameters, as the driver takes them."""
        sql, slots = self._plain if not self._expanding else self._expanded(params)
        values = []
        for name, index, processor, default in slots:
            if name in params:
                value = params[name]
            elif default is _REQUIRED:
                raise exc.InvalidRequestError(f"A value is required for bind parameter {name!r}")
            else:
                value = default  # a value the statement was built with (a literal IN list, literal())
            if index is not None:
                value = value[index]
            values.append(processor(value) if processor is not None else value)
        return sql, tuple(values)

    def _expanded(self, params: Mapping[str, Any]) -> tuple[str, list[_Slot]]:
        lengths = tuple(len(params[name]) if name in params else -1 for name in self._expanding)
        found = self._expansions.get(lengths)
        if found is None:
            state = self._compiled.construct_expanded_state(params, escape_names=False)
            expanded = {key: (name, index) for name, keys in state.parameter_expansion.items()
                        for index, key in enumerate(keys)}
            found = (self._sql(state.statement), self._slots(state.positiontup or [], expanded, state.processors))
            if len(self._expansions) >= _MAX_EXPANSIONS:
                self._expansions.clear()
            self._expansions[lengths] = found
        return found

    def _sql(self, sql: str) -> str:
        """The SQL the driver runs: the rows folded into one JSON array where they can be (the module's text)."""
        if not self._as_json:
            return sql
        names = ", ".join(f"c{index}" for index in range(self._width))
        return (f"WITH fedserver_rows({names}) AS ({sql}) "
                f"SELECT json_group_array(json_array({names})) FROM fedserver_rows")

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        if self._as_json:
            raw = orjson.loads(raw[0][0])
        make, processors = self._make_row, self._result_processors
        if not processors:
            return [make(row) for row in raw]
        converted = []
        for row in raw:
            values = list(row)
            for index, processor in processors:
                values[index] = processor(values[index])
            converted.append(make(values))
        return converted


class CompiledRead:
    """A read-only Core SELECT, compiled for SQLite at first use; `rows` runs it in a session."""

    def __init__(self, statement: ReadStatement) -> None:
        self.statement = statement
        self._plan: _Plan | None = None  # SQLite's

    async def rows(self, session: AsyncSession, params: Mapping[str, Any]) -> list[Any]:
        """Its rows (named tuples of the statement's columns) on the session's connection and transaction.
        Pending ORM changes are flushed first, as the ORM's autoflush would."""
        if session.sync_session.autoflush and (session.new or session.dirty or session.deleted):
            await session.flush()
        connection = await session.connection()
        adapted = connection.sync_connection.connection.dbapi_connection if connection.sync_connection else None
        if not isinstance(adapted, OneHopConnection):
            # PostgreSQL: SQLAlchemy's own execute. Its result processors depend on the types the server
            # reports for each query, and a city on PostgreSQL runs several workers anyway.
            return list((await connection.execute(self.statement, params)).all())
        if self._plan is None:
            self._plan = _Plan(self.statement, connection.dialect)
        sql, values = self._plan.bind(params)
        cursor = adapted.cursor()
        try:
            await cursor._execute_async(sql, values)
            return self._plan.rows(list(cursor._rows))
        finally:
            cursor.close()


@lru_cache(maxsize=256)
def compiled(statement: ReadStatement) -> CompiledRead:
    """The CompiledRead of a statement object its builder keeps (a module constant, an lru_cache'd builder)."""
    return CompiledRead(statement)
