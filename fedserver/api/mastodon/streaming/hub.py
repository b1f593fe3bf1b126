"""The hub: one poller per server process reads new stream events and hands them to its listeners.

Events are rows (fedserver.local.streams writes them with the change), so every process sees
every event, whichever process or worker made it. The poller runs one query per tick however
many clients are connected, and none at all while nobody listens. Ids are time-ordered, but a
transaction may commit an id a moment after a later one (several writers on PostgreSQL): each
tick re-reads a short window behind the newest id and skips the ids it already handed out.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fedserver.db import utcnow
from fedserver.ids import lowest_id_at
from fedserver.local.models.streams import StreamEvent

log = logging.getLogger(__name__)

INTERVAL = 0.5  # seconds between polls while someone listens
LATE_COMMITS = timedelta(seconds=2)  # how long a transaction may hold an id before it commits
BATCH = 500
QUEUE_SIZE = 1000  # a client this far behind is dropped rather than held in memory


@dataclass(frozen=True)
class Event:
    """One stream event, as read from its row."""

    id: int
    stream: str
    event: str
    object_id: int | None
    payload: str


@dataclass(eq=False)
class Listener:
    """One subscription: the streams it takes, its name for the client, and the connection's queue."""

    streams: frozenset[str]
    name: tuple[str, ...]
    queue: asyncio.Queue[tuple[Listener, Event] | None]
    since_id: int = 0  # events older than the subscription are not replayed
    overflowed: bool = field(default=False)


class Hub:
    """Listeners of this process and the task that feeds them."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, interval: float = INTERVAL,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions, self.interval, self.clock = sessions, interval, clock
        self.listeners: set[Listener] = set()
        self._by_stream: dict[str, set[Listener]] = {}  # so an event costs its own listeners, not all
        self._someone = asyncio.Event()
        self._seen: dict[int, None] = {}  # ids handed out inside the late-commit window, in order
        self._cursor: int | None = None  # newest id handed out; None while nobody listens

    def join(self, listener: Listener) -> None:
        """Start feeding a listener events made from now on."""
        listener.since_id = lowest_id_at(self.clock())
        self.listeners.add(listener)
        for stream in listener.streams:
            self._by_stream.setdefault(stream, set()).add(listener)
        self._someone.set()

    def leave(self, listener: Listener) -> None:
        self.listeners.discard(listener)
        for stream in listener.streams:
            others = self._by_stream.get(stream, set())
            others.discard(listener)
            if not others:
                self._by_stream.pop(stream, None)
        if not self.listeners:
            self._someone.clear()

    async def poll_once(self) -> int:
        """Read the events since the last poll, hand each to the listeners of its stream; returns how many."""
        window = lowest_id_at(self.clock() - LATE_COMMITS)
        after = window if self._cursor is None else min(self._cursor, window)
        handed = 0
        while True:
            async with self.sessions() as session:
                rows = (await session.execute(
                    select(StreamEvent.id, StreamEvent.stream, StreamEvent.event, StreamEvent.object_id,
                           StreamEvent.payload).where(StreamEvent.id > after).order_by(StreamEvent.id).limit(BATCH)
                )).all()
            for row in rows:
                if row.id not in self._seen:
                    self._seen[row.id] = None
                    handed += self._hand_out(Event(row.id, row.stream, row.event, row.object_id, row.payload or ""))
                after = row.id
            self._cursor = max(self._cursor or 0, after)
            if len(rows) < BATCH:
                break
        self._forget(window)
        return handed

    def _hand_out(self, event: Event) -> int:
        handed = 0
        for listener in list(self._by_stream.get(event.stream, ())):
            if event.id >= listener.since_id and not listener.overflowed:
                try:
                    listener.queue.put_nowait((listener, event))
                    handed += 1
                except asyncio.QueueFull:
                    log.warning("a streaming client fell %d events behind; closing it", QUEUE_SIZE)
                    listener.overflowed = True
                    self._close(listener.queue)
        return handed

    def _forget(self, window: int) -> None:
        """Drop remembered ids older than the window; the ids were added in ascending order."""
        for event_id in list(self._seen):
            if event_id > window:
                break
            del self._seen[event_id]

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every `interval` seconds while anyone listens, until stopped."""
        while not stop.is_set():
            if not self.listeners:
                self._cursor = None  # after a quiet spell, start from now rather than replaying
                self._seen.clear()
                await _first(self._someone.wait(), stop.wait())
                continue
            try:
                await self.poll_once()
            except Exception:  # the worker boundary: a failed poll is logged, the next one retries
                log.exception("polling stream events failed")
            await _first(asyncio.sleep(self.interval), stop.wait())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the poller for the lifespan of the app; on shutdown end every stream cleanly."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop), name="streaming-poller")
        try:
            yield
        finally:
            stop.set()
            for listener in list(self.listeners):
                self._close(listener.queue)
            await asyncio.wait([task], timeout=5)
            task.cancel()

    @staticmethod
    def _close(queue: asyncio.Queue[tuple[Listener, Event] | None]) -> None:
        """Tell the connection behind a queue to end (None is the sentinel); a full queue is emptied first."""
        while True:
            try:
                queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                queue.get_nowait()


def new_queue() -> asyncio.Queue[tuple[Listener, Event] | None]:
    return asyncio.Queue(maxsize=QUEUE_SIZE)


async def _first(*waits: Coroutine[Any, Any, Any]) -> None:
    """Wait until the first of several awaitables finishes; cancel the rest."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
