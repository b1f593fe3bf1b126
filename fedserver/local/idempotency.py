"""Idempotent posting: a retried POST with the same Idempotency-Key gets the status made the first time."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.models.clients import IdempotencyKey
from fedserver.local.models.statuses import Status

KEEP = timedelta(hours=1)  # Mastodon keeps the key for an hour (PostStatusService, redis setex 3600)
MAX_KEY = 255


async def earlier(session: AsyncSession, account_id: int, key: str, *, now: datetime) -> Status | None:
    """The status this account posted with this key within the last hour, if it still exists."""
    query = (select(Status).join(IdempotencyKey, IdempotencyKey.status_id == Status.id)
             .where(IdempotencyKey.account_id == account_id, IdempotencyKey.key == key[:MAX_KEY],
                    IdempotencyKey.created_at > now - KEEP))
    return (await session.scalars(query)).first()


async def remember(session: AsyncSession, account_id: int, key: str, status_id: int, *, now: datetime) -> None:
    """Record the key; the account's expired keys go at the same time, so the table stays small."""
    await session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.account_id == account_id,
        (IdempotencyKey.created_at <= now - KEEP) | (IdempotencyKey.key == key[:MAX_KEY])))
    session.add(IdempotencyKey(account_id=account_id, key=key[:MAX_KEY], status_id=status_id, created_at=now))
    await session.flush()
