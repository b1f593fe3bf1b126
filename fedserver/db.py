"""Engine, sessions, the declarative Base and the migrations runner."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, DateTime, MetaData, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransactionOrigin
from sqlalchemy.types import TypeDecorator

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Stable constraint names, so that Alembic migrations read the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    def result_processor(self, dialect: Any, coltype: Any) -> Callable[[Any], datetime | None] | None:
        # On SQLite, the stored text straight to an aware datetime: the default chain (the dialect's parser,
        # then process_result_value) was two calls a value, hundreds a page of statuses.
        if dialect.name == "sqlite":
            return _sqlite_text_to_utc
        return super().result_processor(dialect, coltype)


def _sqlite_text_to_utc(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)  # what SQLAlchemy's SQLite DATETIME parser does too
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Every table of every layer (local models, inbox and outbox queues)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {int: BigInteger, datetime: UTCDateTime}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# Connections a process keeps open to a SQLite file (and as many more for bursts, closed after use).
SQLITE_POOL_SIZE = 20

# Execution option on a connection whose transactions will write: on SQLite they BEGIN IMMEDIATE.
WRITES = "fedserver_writes"


def create_engine(database_url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys, secure_delete, a busy timeout, and write
    transactions that start with BEGIN IMMEDIATE (see _sqlite_begin)."""
    if database_url.startswith("sqlite"):
        # A pool that keeps what a busy worker uses: beyond pool_size every checkout opened a connection
        # (a thread, the PRAGMAs) and closed it again; with 8 concurrent requests plus the queue workers
        # the default of 5 did that on most requests. Connections open lazily: an idle server has few.
        engine = create_async_engine(database_url, connect_args={"timeout": 30}, pool_size=SQLITE_POOL_SIZE,
                                     max_overflow=SQLITE_POOL_SIZE)
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    else:
        engine = create_async_engine(database_url, pool_size=10, max_overflow=10, pool_pre_ping=True)
    event.listen(engine.sync_engine, "after_cursor_execute", _note_write)
    event.listen(engine.sync_engine, "commit", _count_commit)
    event.listen(engine.sync_engine, "rollback", _forget_writes)
    return engine


_commits = [0]
_WROTE = "fedserver_wrote"
_WRITING = ("INSERT", "UPDATE", "DELETE", "REPLAC")
_WRITING_CTE = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def _note_write(connection: Connection, cursor: Any, statement: str, *_args: Any) -> None:
    # An UPDATE that matched nothing changed nothing: the workers' idle rounds (claims) commit such ones.
    if _is_write(statement) and cursor.rowcount != 0:
        connection.info[_WROTE] = True


@lru_cache(maxsize=1024)
def _is_write(statement: str) -> bool:
    """Whether a statement may change rows; cached, as statements are compiled once and repeated: searching a
    page's long WITH ... SELECT for a write keyword took ~0.1 ms each time (bench/home_timeline.py)."""
    head = statement.lstrip()[:6].upper()
    return head in _WRITING or (head.startswith("WITH") and _WRITING_CTE.search(statement) is not None)


def _count_commit(connection: Connection) -> None:
    if connection.info.pop(_WROTE, False):
        _commits[0] += 1


def _forget_writes(connection: Connection) -> None:
    connection.info.pop(_WROTE, None)


def commits_seen() -> int:
    """How many transactions that wrote the engines of this process have committed (ORM sessions and Core
    alike; the workers' idle rounds commit without writing and do not count): caches of rendered entities
    compare it to drop what a write in this process may have changed."""
    return _commits[0]


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    from fedserver.sqlite_driver import use_one_hop_cursors

    use_one_hop_cursors(dbapi_connection)  # one trip to aiosqlite's thread per statement, not four
    # The driver begins a transaction itself only before a statement that writes, reads before it run on
    # their own: sessions used without begin() read as before, and a write there waits for the lock.
    dbapi_connection.isolation_level = "IMMEDIATE"
    cursor = dbapi_connection.cursor()
    # secure_delete: deleted rows are overwritten, not left in free pages (DESIGN.md, privacy).
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "secure_delete=ON", "synchronous=NORMAL", "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A transaction that read first cannot wait for the write lock: SQLite refuses the upgrade at once
    # ("database is locked") when another connection writes meanwhile, busy_timeout or not; and reads
    # the driver ran outside it would be stale (lost updates). So a writer's transaction starts with
    # BEGIN IMMEDIATE, which waits up to busy_timeout for the lock (SQLAlchemy's SQLite dialect docs,
    # "Enabling Non-Legacy SQLite Transactional Modes"). Readers take no lock and run beside it under WAL.
    if connection.get_execution_options().get(WRITES, False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def writer_of(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool, for transactions that will write (BEGIN IMMEDIATE on SQLite)."""
    return engine.execution_options(**{WRITES: True})


def session_factory(
    engine: AsyncEngine, on_write_committed: Callable[[], None] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit; on_write_committed runs after each
    commit that changed something (caches of rendered documents listen to it).

    A session begun with `session.begin()` is a write transaction: on SQLite it starts with BEGIN
    IMMEDIATE. A session used without begin() reads without taking a lock, so reads run beside the
    writer under WAL; should it write, the driver begins IMMEDIATE just before that statement."""
    writer: Engine | None = writer_of(engine).sync_engine if engine.dialect.name == "sqlite" else None

    class CitySession(Session):
        def get_bind(self, mapper: Any = None, **kw: Any) -> Engine | Connection:
            transaction = self.get_transaction()
            if (writer is not None and kw.get("bind") is None and transaction is not None
                    and transaction.origin is SessionTransactionOrigin.BEGIN):
                return writer
            return super().get_bind(mapper, **kw)

    if on_write_committed is not None:
        callback = on_write_committed
        event.listen(CitySession, "after_begin", _note_commits_at_begin)
        event.listen(CitySession, "after_commit", lambda session: _after_commit(session, callback))
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=CitySession)


_COMMITS_AT_BEGIN = "fedserver_commits_at_begin"


def _note_commits_at_begin(session: Session, _transaction: Any, _connection: Any) -> None:
    session.info[_COMMITS_AT_BEGIN] = commits_seen()


def _after_commit(session: Session, callback: Callable[[], None]) -> None:
    # The engine counts committed transactions that changed rows, ORM flushes and Core statements alike
    # (_note_write). Another session's write committed meanwhile also counts: a cache emptied once too
    # often costs little, one left stale would serve a changed document.
    if session.info.pop(_COMMITS_AT_BEGIN, commits_seen()) != commits_seen():  # never begun: nothing written
        callback()


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest Alembic revision (run on every start)."""
    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    async with writer_of(engine).begin() as connection:  # two processes starting at once: one waits
        await connection.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def is_busy(error: BaseException) -> bool:
    """SQLite's "database is locked": another process holds the write lock past the busy timeout, or
    a read transaction could not be upgraded. Workers retry on their next round, so it is no crash."""
    from sqlalchemy.exc import OperationalError

    return isinstance(error, OperationalError) and "database is locked" in str(error)


async def lock_for_writing(session: AsyncSession) -> None:
    """On SQLite, take the write lock now, waiting up to the busy timeout.

    A session begun with `session.begin()` holds it from its BEGIN IMMEDIATE already (then this does
    nothing); an autobegun session that is about to read and then write gets it here, by a no-op UPDATE.
    """
    bind = session.get_bind()
    if bind.dialect.name == "sqlite" and not bind.get_execution_options().get(WRITES, False):
        from sqlalchemy import text

        await session.execute(text("UPDATE alembic_version SET version_num = version_num WHERE 0"))
