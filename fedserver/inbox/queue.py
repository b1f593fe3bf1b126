"""InboxItem: every verified activity, stored durably before we answer 202, worked by the inbox worker."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, Integer, String, Text, delete, or_, select, update
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
    values = dict(id=new_id(), activity_ap_id=activity_ap_id, actor_ap_id=actor_ap_id, activity_type=activity_type,
                  body=body, state=PENDING, attempts=0, next_attempt_at=now, note="", received_at=now)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(InboxItem).values(**values).on_conflict_do_nothing(index_elements=["activity_ap_id"])
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def claim_due(session: AsyncSession, *, now: datetime, lease: timedelta) -> ClaimedItem | None:
    """Take one due item for `lease`; a crashed worker's item is taken again when the lease runs out."""
    due = (select(InboxItem.id).where(InboxItem.state == PENDING, InboxItem.next_attempt_at <= now,
                                      or_(InboxItem.lease_until.is_(None), InboxItem.lease_until < now))
           .order_by(InboxItem.id).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    item_id = await session.scalar(due)
    if item_id is None:
        return None
    # Compare-and-set: only one claimer sees its UPDATE match when two raced for the same row.
    claimed = await session.execute(
        update(InboxItem).where(InboxItem.id == item_id, or_(InboxItem.lease_until.is_(None), InboxItem.lease_until < now))
        .values(lease_until=now + lease)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return None
    row = await session.get(InboxItem, item_id)
    assert row is not None
    return ClaimedItem(row.id, row.activity_ap_id, row.actor_ap_id, row.body, row.attempts)


async def finish(session: AsyncSession, item_id: int, state: str, note: str = "") -> None:
    """Record that the item was applied or skipped, and drop its body."""
    await session.execute(update(InboxItem).where(InboxItem.id == item_id)
                          .values(state=state, note=note[:2000], body="", lease_until=None))


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
