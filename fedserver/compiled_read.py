"""Read statements compiled once per database dialect and run straight on the driver, for the hottest pages.

SQLAlchemy's execute pipeline (the cache key of a large statement and its lookup, an execution context, the
result object) cost about 0.3 ms of the event loop's time per statement of a home page, a fifth of the page
(bench/home_timeline.py). A CompiledRead compiles its SELECT once per dialect and then does only what a read
needs: it binds the parameters through the same bind processors (expanding IN lists included), runs the SQL
with one trip to the driver and converts the columns with the same result processors, so its rows hold what
SQLAlchemy's own execute would give (tests/unit/test_compiled_read.py compares them on SQLite and PostgreSQL).

For plain reads only: a statement that writes would escape the engine's write detector (db._note_write).
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import CompoundSelect, Select, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler

from fedserver.sqlite_driver import OneHopConnection

Processor = Callable[[Any], Any]
ReadStatement = Select[Any] | CompoundSelect[Any]


# A parameter slot of a compiled statement: its name, the index into an expanded list (None for a plain
# value), its bind processor, and the value it takes when the call gives none (_REQUIRED: it must be given).
_Slot = tuple[str, int | None, Processor | None, Any]
_REQUIRED = object()
_MAX_EXPANSIONS = 128  # SQL texts kept per statement, one per combination of list lengths


class _Plan:
    """One statement compiled for one dialect: how to bind its parameters and read its rows."""

    def __init__(self, statement: ReadStatement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler) and compiled.positional, "sqlite and asyncpg bind by position"
        self._compiled = compiled
        self._expanding = sorted({compiled.bind_names[bind] for bind in compiled.post_compile_params})
        assert not compiled.literal_execute_params, "literal_execute parameters are rendered per value"
        # Expanding (IN) lists make the SQL text depend on their lengths: one text per combination, built by
        # SQLAlchemy the first time (construct_expanded_state), then only the values are filled in.
        self._expansions: dict[tuple[int, ...], tuple[str, list[_Slot]]] = {}
        self._plain = (compiled.string, self._slots(compiled.positiontup or [], {}, {}))
        columns = compiled._result_columns
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
            found = (state.statement, self._slots(state.positiontup or [], expanded, state.processors))
            if len(self._expansions) >= _MAX_EXPANSIONS:
                self._expansions.clear()
            self._expansions[lengths] = found
        return found

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
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
    """A read-only Core SELECT, compiled at first use on each dialect; `rows` runs it in a session."""

    def __init__(self, statement: ReadStatement) -> None:
        self.statement = statement
        self._plans: dict[str, _Plan] = {}

    async def rows(self, session: AsyncSession, params: Mapping[str, Any]) -> list[Any]:
        """Its rows (named tuples of the statement's columns) on the session's connection and transaction.
        Pending ORM changes are flushed first, as the ORM's autoflush would."""
        if session.sync_session.autoflush and (session.new or session.dirty or session.deleted):
            await session.flush()
        connection = await session.connection()
        plan = self._plans.get(connection.dialect.name)
        if plan is None:
            plan = self._plans[connection.dialect.name] = _Plan(self.statement, connection.dialect)
        sql, values = plan.bind(params)
        return plan.rows(await _run(connection, sql, values))


@lru_cache(maxsize=256)
def compiled(statement: ReadStatement) -> CompiledRead:
    """The CompiledRead of a statement object its builder keeps (a module constant, an lru_cache'd builder)."""
    return CompiledRead(statement)


async def _run(connection: AsyncConnection, sql: str, values: tuple[Any, ...]) -> Sequence[Sequence[Any]]:
    """The driver's rows: one trip to aiosqlite's thread for SQLite (sqlite_driver), the engine's own
    driver-level execute elsewhere."""
    adapted = connection.sync_connection.connection.dbapi_connection if connection.sync_connection else None
    if isinstance(adapted, OneHopConnection):
        cursor = adapted.cursor()
        await cursor._execute_async(sql, values)
        rows = list(cursor._rows)
        cursor.close()
        return rows
    return (await connection.exec_driver_sql(sql, values)).all()
