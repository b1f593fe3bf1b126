"""InboxItem: every verified activity, stored durably before we answer 202, worked by the inbox worker."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, Insert, Integer, String, Text, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fedserver.db import Base, utcnow
from fedserver.ids import new_id

PENDING, DONE, SKIPPED, FAILED = "pending", "done", "skipped", "failed"
MAX_ATTEMPTS = 8  # a handler that fails this often is broken for this activity; the row says why


class InboxItem(Base):
    """Unique by activity id: a redelivered activity is stored once and applied once."""

    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_items_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    activity_ap_id: Mapped[str] = mapped_column(String(2048), unique=True)
    actor_ap_id: Mapped[str] = mapped_column(String(2048))
    activity_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # emptied once applied: nothing lingers (privacy)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")  # why it was skipped or failed
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class ClaimedItem:
    id: int
    activity_ap_id: str
    actor_ap_id: str
    body: str
    attempts: int


async def store(session: AsyncSession, *, activity_ap_id: str, actor_ap_id: str, activity_type: str,
                body: str, now: datetime) -> bool:
    """Insert the activity unless we have it already; True when it is new."""
    values = new_row(activity_ap_id=activity_ap_id, actor_ap_id=actor_ap_id, activity_type=activity_type,
                     body=body, now=now)
    result = await session.execute(_store_statement(session.get_bind().dialect.name), values)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def new_row(*, activity_ap_id: str, actor_ap_id: str, activity_type: str, body: str, now: datetime) -> dict[str, Any]:
    """Every column of a newly received item (intake.py writes them without SQLAlchemy)."""
    return dict(id=new_id(), activity_ap_id=activity_ap_id, actor_ap_id=actor_ap_id, activity_type=activity_type,
                body=body, state=PENDING, attempts=0, next_attempt_at=now, lease_until=None, note="",
                received_at=now)


@functools.cache
def _store_statement(dialect: str) -> Insert:
    """Built once: a statement made anew for every POST cost more to build than to run (bench/inbox.py)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = Base.metadata.tables[InboxItem.__tablename__]
    return insert(table).on_conflict_do_nothing(index_elements=["activity_ap_id"])


async def claim_due(session: AsyncSession, *, now: datetime, lease: timedelta, limit: int = 1) -> list[ClaimedItem]:
    """Take up to `limit` due items for `lease`, oldest first; a crashed worker's items come back
    when their lease runs out. Two claimers never get the same item."""
    not_leased = or_(InboxItem.lease_until.is_(None), InboxItem.lease_until < now)
    due = (select(InboxItem.id).where(InboxItem.state == PENDING, InboxItem.next_attempt_at <= now, not_leased)
           .order_by(InboxItem.id).limit(limit))
    columns = (InboxItem.id, InboxItem.activity_ap_id, InboxItem.actor_ap_id, InboxItem.body, InboxItem.attempts)
    if session.get_bind().dialect.name == "postgresql":
        # Lock, then update: the one-statement form over-claimed on PostgreSQL (outbox/deliveries.py).
        ids = list((await session.scalars(due.with_for_update(skip_locked=True))).all())
        if not ids:
            return []
        statement = update(InboxItem).where(InboxItem.id.in_(ids))
    else:  # SQLite: the UPDATE takes the write lock before it reads, so the sub-select cannot race
        statement = update(InboxItem).where(InboxItem.id.in_(due.scalar_subquery()), not_leased)
    rows = await session.execute(statement.values(lease_until=now + lease).returning(*columns)
                                 .execution_options(synchronize_session=False))
    return sorted((ClaimedItem(*row) for row in rows.all()), key=lambda item: item.id)


async def finish(session: AsyncSession, item_id: int, state: str, note: str = "") -> None:
    """Record that the item was applied or skipped, and drop its body."""
    await finish_many(session, [(item_id, state, note)])


async def finish_many(session: AsyncSession, results: list[tuple[int, str, str]]) -> None:
    """Record many outcomes in one statement (executemany by primary key); bodies are dropped."""
    if results:
        await session.execute(update(InboxItem), [
            {"id": item_id, "state": state, "note": note[:2000], "body": "", "lease_until": None}
            for item_id, state, note in results])


async def retry_later(session: AsyncSession, item_id: int, attempts: int, error: str, *, now: datetime) -> None:
    """A handler failed: try again later, or give up after MAX_ATTEMPTS with the error on the row."""
    if attempts + 1 >= MAX_ATTEMPTS:
        await session.execute(update(InboxItem).where(InboxItem.id == item_id).values(
            state=FAILED, attempts=attempts + 1, note=error[:2000], body="", lease_until=None))
        return
    delay = timedelta(seconds=30 * 4 ** attempts)
    await session.execute(update(InboxItem).where(InboxItem.id == item_id).values(
        attempts=attempts + 1, note=error[:2000], lease_until=None, next_attempt_at=now + delay))


async def prune(session: AsyncSession, *, older_than: datetime) -> None:
    """Forget finished items once redeliveries are no longer expected."""
    await session.execute(delete(InboxItem).where(InboxItem.state != PENDING, InboxItem.received_at < older_than))


async def count_pending(session: AsyncSession) -> int:
    from sqlalchemy import func

    return int(await session.scalar(select(func.count(InboxItem.id)).where(InboxItem.state == PENDING)) or 0)
