"""Idempotent posting: a retried POST with the same Idempotency-Key gets what was made the first time,
a status or a scheduled status (Mastodon's PostStatusService keeps one key for either)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.models.clients import IdempotencyKey
from fedserver.local.models.scheduling import ScheduledStatus
from fedserver.local.models.statuses import Status

KEEP = timedelta(hours=1)  # Mastodon keeps the key for an hour (PostStatusService, redis setex 3600)
MAX_KEY = 255


async def earlier(session: AsyncSession, account_id: int, key: str, *, now: datetime) -> Status | None:
    """The status this account posted with this key within the last hour, if it still exists."""
    query = (select(Status).join(IdempotencyKey, IdempotencyKey.status_id == Status.id)
             .where(*_recent(account_id, key, now)))
    return (await session.scalars(query)).first()


async def earlier_scheduled(session: AsyncSession, account_id: int, key: str, *,
                            now: datetime) -> ScheduledStatus | None:
    """The status this account scheduled with this key within the last hour, if it is still waiting."""
    query = (select(ScheduledStatus).join(IdempotencyKey, IdempotencyKey.scheduled_status_id == ScheduledStatus.id)
             .where(*_recent(account_id, key, now)))
    return (await session.scalars(query)).first()


def _recent(account_id: int, key: str, now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (IdempotencyKey.account_id == account_id, IdempotencyKey.key == key[:MAX_KEY],
            IdempotencyKey.created_at > now - KEEP)


async def remember(session: AsyncSession, account_id: int, key: str, *, now: datetime, status_id: int | None = None,
                   scheduled_status_id: int | None = None) -> None:
    """Record the key for what was made; the account's expired keys go at the same time, so the table stays small."""
    if (status_id is None) == (scheduled_status_id is None):
        raise ValueError("a key records either a status or a scheduled status")
    await session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.account_id == account_id,
        (IdempotencyKey.created_at <= now - KEEP) | (IdempotencyKey.key == key[:MAX_KEY])))
    session.add(IdempotencyKey(account_id=account_id, key=key[:MAX_KEY], status_id=status_id,
                               scheduled_status_id=scheduled_status_id, created_at=now))
    await session.flush()
