"""Housekeeping: what no request triggers — forgetting gone followers and finished queue rows."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fedserver.db import is_busy
from fedserver.inbox import queue
from fedserver.local import account_deletion, follows, media, mutes, poll_votes, scheduled_statuses, search
from fedserver.local import streams
from fedserver.local.urls import LocalUrls
from fedserver.outbox import deliveries

log = logging.getLogger(__name__)

KEEP_FINISHED = timedelta(days=7)  # long enough to de-duplicate late redeliveries, then gone (privacy)
INTERVAL = timedelta(hours=1)
POLL_INTERVAL = timedelta(minutes=1)  # a poll's end is told within a minute
KEEP_STREAM_EVENTS = timedelta(hours=1)  # a streaming client away longer reloads its timelines anyway


async def tidy(sessions: async_sessionmaker[AsyncSession], *, since: datetime, now: datetime,
               media_dir: Path | None = None) -> None:
    """One round: drop followers whose inbox is gone since `since`, prune old finished queue rows,
    remove uploads never attached to a status within a day, purge deleted posts from the search index."""
    async with sessions() as session, session.begin():
        gone = await deliveries.gone_inboxes(session, since=since)
        dropped = await follows.drop_gone_followers(session, gone)
        pruned = await deliveries.prune_finished(session, older_than=now - KEEP_FINISHED)
        await queue.prune(session, older_than=now - KEEP_FINISHED)
        await streams.prune(session, older_than=now - KEEP_STREAM_EVENTS)
        await mutes.purge_expired(session, now=now)
        # A deleted account's tombstone keeps its key only until its Delete deliveries are done.
        await account_deletion.purge_tombstones(session)
        if media_dir is not None:
            await media.remove_unattached(session, media_dir, older_than=now - media.KEEP_UNATTACHED)
        # Words of deleted posts stay in FTS5 segments until merged: ~0.75 s per 200k posts, once an hour.
        await search.purge_deleted(session)
    if dropped or pruned:
        log.info("housekeeping: %d follows of gone actors dropped, %d finished deliveries pruned", dropped, pruned)


async def finish_polls(sessions: async_sessionmaker[AsyncSession], urls: LocalUrls, *, since: datetime,
                       now: datetime) -> int:
    """Polls that ended since the last round: voters and authors are told, the audience gets final counts."""
    async with sessions() as session, session.begin():
        return await poll_votes.finish_ended(session, urls, since=since, now=now)


async def publish_poll_counts(sessions: async_sessionmaker[AsyncSession], urls: LocalUrls, *, now: datetime) -> int:
    """Open local polls that got votes: their audience gets the counts, at most every few minutes per poll."""
    async with sessions() as session, session.begin():
        return await poll_votes.publish_counts(session, urls, now=now)


async def publish_scheduled(sessions: async_sessionmaker[AsyncSession], urls: LocalUrls, *, now: datetime) -> int:
    """Scheduled statuses that are due are posted, each in its own transaction; how many."""
    published = 0
    while published < scheduled_statuses.PUBLISH_BATCH:
        async with sessions() as session, session.begin():
            if not await scheduled_statuses.publish_next_due(session, urls, now=now):
                break
        published += 1
    return published


async def run_forever(sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime],
                      stop: asyncio.Event, *, media_dir: Path | None = None, urls: LocalUrls | None = None) -> None:
    """Finish ended polls and publish due scheduled statuses every minute, tidy once an hour, until stopped."""
    tidied_until = polls_until = clock() - INTERVAL
    while not stop.is_set():
        now = clock()
        try:
            if urls is not None:
                await finish_polls(sessions, urls, since=polls_until, now=now)
                polls_until = now
                await publish_poll_counts(sessions, urls, now=now)
                await publish_scheduled(sessions, urls, now=now)
            if now - tidied_until >= INTERVAL:
                await tidy(sessions, since=tidied_until, now=now, media_dir=media_dir)
                tidied_until = now
        except Exception as exc:  # the worker boundary: log and try again next round
            if is_busy(exc):
                log.warning("housekeeping: the database is busy; trying again next round")
            else:
                log.exception("housekeeping failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=POLL_INTERVAL.total_seconds())
        except asyncio.TimeoutError:
            pass
