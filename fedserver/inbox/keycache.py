"""A short-lived cache of signers by key id for the verify step.

Every inbox POST needs its signer; reading it from the database each time cost about a third of
an accepted POST (bench/inbox.py). Entries live `ttl` seconds; a failing signature bypasses the
cache (the key is refetched), so a rotated key is never held against its owner. Domain blocks are
deliberately not cached: a block takes effect at once.
"""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from fedserver.local.models.actors import Actor

T = TypeVar("T")


@dataclass
class _Timed(Generic[T]):
    ttl: float
    entries: dict[str, tuple[float, T]] = field(default_factory=dict)
    max_entries: int = 10_000

    async def get(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        hit = self.entries.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        value = await load()
        if len(self.entries) >= self.max_entries:
            self.entries.clear()
        self.entries[key] = (time.monotonic() + self.ttl, value)
        return value

    def forget(self, key: str | None = None) -> None:
        if key is None:
            self.entries.clear()
        else:
            self.entries.pop(key, None)


@dataclass
class VerifyCaches:
    """What InboxDeps carries for verify.py; one per app (per process)."""

    signers: _Timed[Actor | None] = field(default_factory=lambda: _Timed[Actor | None](ttl=60.0))
