"""The hub: one poller per server process reads new stream events and hands them to its listeners.

Events are rows (fedserver.local.streams writes them with the change), so every process sees
every event, whichever process or worker made it. The poller runs one query per tick however
many clients are connected, and none at all while nobody listens. Ids are time-ordered, but a
transaction may commit an id a moment after a later one (several writers on PostgreSQL): each
tick re-reads a short window behind the newest id and skips the ids it already handed out.

A stream outlives the check of its token at connect time, so every REVALIDATE seconds the hub asks
the database, in one query for all its connections, which of their tokens still work: a token
revoked (POST /oauth/revoke), or an account deleted, suspended or no longer approved, by whichever
process, ends its open streams within seconds. A revocation event would be quicker, but every path
that invalidates a token would have to remember to write it; the question asked here cannot be
forgotten.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fedserver.api.mastodon.streaming import channels
from fedserver.db import utcnow
from fedserver.ids import lowest_id_at
from fedserver.local.models.streams import StreamEvent

log = logging.getLogger(__name__)

INTERVAL = 0.5  # seconds between polls while someone listens
LATE_COMMITS = timedelta(seconds=2)  # how long a transaction may hold an id before it commits
BATCH = 500
QUEUE_SIZE = 1000  # a client this far behind is dropped rather than held in memory
REVALIDATE = 2.0  # seconds between checks that the tokens of open streams still work


@dataclass(frozen=True)
class Event:
    """One stream event, as read from its row."""

    id: int
    stream: str
    event: str
    object_id: int | None
    payload: str


@dataclass(frozen=True)
class Close:
    """The sentinel that tells a connection to end, with the WebSocket close code to end it with."""

    code: int
    reason: str


GOING_AWAY = Close(1001, "")  # the server shuts down, or the client fell too far behind
REVOKED = Close(1008, "access token revoked")  # 1008, as for a connection refused for its token

Queue = asyncio.Queue["tuple[Listener, Event] | Close"]


@dataclass(eq=False)
class Listener:
    """One subscription: the streams it takes, its name for the client, and the connection's queue."""

    streams: frozenset[str]
    name: tuple[str, ...]
    queue: Queue
    since_id: int = 0  # events older than the subscription are not replayed
    overflowed: bool = field(default=False)


@dataclass(eq=False)
class Client:
    """One open connection: the token it was opened with and the queue its subscriptions share."""

    token_id: int
    queue: Queue


class Hub:
    """Listeners of this process and the task that feeds them."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, interval: float = INTERVAL,
                 revalidate: float = REVALIDATE, clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions, self.interval, self.revalidate, self.clock = sessions, interval, revalidate, clock
        self.listeners: set[Listener] = set()
        self.clients: set[Client] = set()
        self._by_stream: dict[str, set[Listener]] = {}  # so an event costs its own listeners, not all
        self._someone = asyncio.Event()
        self._seen: dict[int, None] = {}  # ids handed out inside the late-commit window, in order
        self._cursor: int | None = None  # newest id handed out; None while nobody listens
        self._next_check = 0.0  # time.monotonic() at which the tokens of open connections are checked again

    def connect(self, client: Client) -> None:
        """Watch a connection's token from now on; it ends with REVOKED once the token stops working."""
        self.clients.add(client)
        self._someone.set()

    def disconnect(self, client: Client) -> None:
        self.clients.discard(client)
        self._idle_when_nobody_is_connected()

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
        self._idle_when_nobody_is_connected()

    def _idle_when_nobody_is_connected(self) -> None:
        if not self.listeners and not self.clients:
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
                    self._close(listener.queue, GOING_AWAY)
        return handed

    def _forget(self, window: int) -> None:
        """Drop remembered ids older than the window; the ids were added in ascending order."""
        for event_id in list(self._seen):
            if event_id > window:
                break
            del self._seen[event_id]

    async def check_tokens(self) -> int:
        """End every connection whose token no longer works (revoked, or its account gone); how many."""
        watched = {client.token_id for client in self.clients}
        if not watched:
            return 0
        async with self.sessions() as session:
            working = await channels.working_tokens(session, watched)
        ended = 0
        for client in list(self.clients):
            if client.token_id not in working:
                log.info("closing a stream of token %d: the token no longer works", client.token_id)
                self.disconnect(client)  # closed once; the connection's own disconnect is then a no-op
                self._close(client.queue, REVOKED)
                ended += 1
        return ended

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every `interval` seconds while anyone listens, check tokens every `revalidate` seconds, until stopped."""
        while not stop.is_set():
            if not self.listeners:
                self._cursor = None  # after a quiet spell, start from now rather than replaying
                self._seen.clear()
            if not self.listeners and not self.clients:
                await _first(self._someone.wait(), stop.wait())
                continue
            try:
                if self.listeners:
                    await self.poll_once()
                if time.monotonic() >= self._next_check:
                    self._next_check = time.monotonic() + self.revalidate
                    await self.check_tokens()
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
            for queue in {listener.queue for listener in self.listeners} | {client.queue for client in self.clients}:
                self._close(queue, GOING_AWAY)
            await asyncio.wait([task], timeout=5)
            task.cancel()

    @staticmethod
    def _close(queue: Queue, why: Close) -> None:
        """Tell the connection behind a queue to end; a full queue is emptied first."""
        while True:
            try:
                queue.put_nowait(why)
                return
            except asyncio.QueueFull:
                queue.get_nowait()


def new_queue() -> Queue:
    return asyncio.Queue(maxsize=QUEUE_SIZE)


async def _first(*waits: Coroutine[Any, Any, Any]) -> None:
    """Wait until the first of several awaitables finishes; cancel the rest."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
