"""Housekeeping: what no request triggers — forgetting gone followers and finished queue rows."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fedserver.inbox import queue
from fedserver.local import follows
from fedserver.outbox import deliveries

log = logging.getLogger(__name__)

KEEP_FINISHED = timedelta(days=7)  # long enough to de-duplicate late redeliveries, then gone (privacy)
INTERVAL = timedelta(hours=1)


async def tidy(sessions: async_sessionmaker[AsyncSession], *, since: datetime, now: datetime) -> None:
    """One round: drop followers whose inbox is gone since `since`, prune old finished queue rows."""
    async with sessions() as session, session.begin():
        gone = await deliveries.gone_inboxes(session, since=since)
        dropped = await follows.drop_gone_followers(session, gone)
        pruned = await deliveries.prune_finished(session, older_than=now - KEEP_FINISHED)
        await queue.prune(session, older_than=now - KEEP_FINISHED)
    if dropped or pruned:
        log.info("housekeeping: %d follows of gone actors dropped, %d finished deliveries pruned", dropped, pruned)


async def run_forever(sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime],
                      stop: asyncio.Event) -> None:
    """Tidy once an hour until stopped."""
    since = clock() - INTERVAL
    while not stop.is_set():
        now = clock()
        try:
            await tidy(sessions, since=since, now=now)
            since = now
        except Exception:  # the worker boundary: log and try again next round
            log.exception("housekeeping failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=INTERVAL.total_seconds())
        except asyncio.TimeoutError:
            pass
