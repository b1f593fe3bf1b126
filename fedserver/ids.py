"""Time-ordered 64-bit ids: sorting by id is sorting by time (DESIGN.md, Identity and order).

Layout, high to low: 47 bits of milliseconds since the Unix epoch (good until the year 6429),
6 bits of node id (distinct per process when several write one PostgreSQL database),
10 bits of sequence within the millisecond. That leaves the top bit clear, so every id fits
a signed BIGINT and a JSON string. 1,024 ids per millisecond per process; past that the
generator borrows the next millisecond, so ids stay unique and increasing.
"""
from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timezone

NODE_BITS = 6
SEQUENCE_BITS = 10
LOW_BITS = NODE_BITS + SEQUENCE_BITS
_SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1
_MAX_NODE = (1 << NODE_BITS) - 1


class IdGenerator:
    """Hands out strictly increasing ids for now, and unique ids for a moment in the past."""

    def __init__(self, node_id: int = 0) -> None:
        if not 0 <= node_id <= _MAX_NODE:
            raise ValueError(f"node id {node_id} is outside 0..{_MAX_NODE}")
        self._node = node_id
        self._lock = threading.Lock()
        self._last_ms = 0
        self._sequence = 0
        self._past_sequence = random.randrange(1 << SEQUENCE_BITS)

    def next_id(self, now_ms: int | None = None) -> int:
        """A new id for the current time, greater than every id this generator gave before."""
        ms = int(time.time() * 1000) if now_ms is None else now_ms
        with self._lock:
            if ms > self._last_ms:
                self._last_ms, self._sequence = ms, 0
            else:
                self._sequence += 1
                if self._sequence > _SEQUENCE_MASK:  # borrow the next millisecond
                    self._last_ms, self._sequence = self._last_ms + 1, 0
            return self._compose(self._last_ms, self._sequence)

    def id_at(self, moment: datetime) -> int:
        """An id for an older moment (a thread's history fetched late); unique in this process.
        A moment ahead of the clock (a peer's clock, a test's) gets an id for now: one id in the future
        would push every later id there too, and timelines order by id."""
        ms = min(int(moment.timestamp() * 1000), int(time.time() * 1000))
        if ms >= self._last_ms:
            return self.next_id(ms)
        with self._lock:
            self._past_sequence = (self._past_sequence + 1) & _SEQUENCE_MASK
            return self._compose(ms, self._past_sequence)

    def _compose(self, ms: int, sequence: int) -> int:
        return (ms << LOW_BITS) | (self._node << SEQUENCE_BITS) | sequence


def time_of(id_: int) -> datetime:
    """The moment an id stands for (millisecond precision, UTC)."""
    return datetime.fromtimestamp((id_ >> LOW_BITS) / 1000, tz=timezone.utc)


def lowest_id_at(moment: datetime) -> int:
    """The smallest id any generator can give for a moment: a cursor for 'since this time'."""
    return int(moment.timestamp() * 1000) << LOW_BITS


_default = IdGenerator()


def configure(node_id: int) -> None:
    """Set the node id of the process-wide generator (from FEDSERVER_NODE_ID)."""
    global _default
    if node_id != _default._node:
        _default = IdGenerator(node_id)


def new_id() -> int:
    """A new time-ordered id from the process-wide generator."""
    return _default.next_id()


def id_at(moment: datetime) -> int:
    """A time-ordered id for an older moment from the process-wide generator."""
    return _default.id_at(moment)


MAX_ID = (1 << 63) - 1


class InvalidId(ValueError):
    """A cursor or path segment that cannot be one of our ids."""


def parse_id(value: str, name: str = "id") -> int:
    """An id from text a client sent (a cursor, a path); raises InvalidId with a readable message."""
    if not value.isascii() or not value.isdigit() or int(value) > MAX_ID:
        raise InvalidId(f"{name} must be an id (a whole number below 2^63), not {value[:40]!r}")
    return int(value)
