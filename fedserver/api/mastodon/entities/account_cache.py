"""Rendered Account entities kept a few seconds, per database, for pages of statuses.

A home page shows the same few hundred followed authors again and again; reading each author with her
counts (statuses_count reads one index entry per status she ever wrote) and rendering her is a good part
of the page (bench/home_timeline.py). An entry lives at most `TTL` seconds and is dropped as soon as any
transaction of this process commits (`commits_seen`), so what this process writes shows at once; a write
by another process (a second worker) shows within `TTL`, as Mastodon's own counters lag behind.
An Account does not depend on who is looking, so entries are shared by every viewer; they are never
modified after rendering (status entities embed them as they are).
"""
from __future__ import annotations

import time
import weakref
from collections.abc import Collection
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.db import commits_seen

TTL = 5.0
MAX_ENTRIES = 4096


class AccountCache:
    """Account entities by actor id, valid while no commit happened and for at most `ttl` seconds."""

    def __init__(self, ttl: float = TTL, max_entries: int = MAX_ENTRIES) -> None:
        self._ttl, self._max_entries = ttl, max_entries
        self._entries: dict[int, dict[str, Any]] = {}
        self._commits = -1
        self._expires_at = 0.0

    def start(self) -> int:
        """The commit count a render begins at: what it reads is stored only if it is still current."""
        commits = commits_seen()
        if commits != self._commits or time.monotonic() >= self._expires_at:
            self._entries.clear()
            self._commits, self._expires_at = commits, time.monotonic() + self._ttl
        return commits

    def found(self, actor_ids: Collection[int]) -> dict[int, dict[str, Any]]:
        return {actor_id: self._entries[actor_id] for actor_id in actor_ids if actor_id in self._entries}

    def store(self, rendered: dict[int, dict[str, Any]], started_at: int) -> None:
        """Keep entities read since `started_at`; dropped if a commit happened meanwhile (they may be old)."""
        if started_at != self._commits or commits_seen() != started_at:
            return
        if len(self._entries) + len(rendered) > self._max_entries:
            self._entries.clear()
        self._entries.update(rendered)


_caches: weakref.WeakKeyDictionary[Engine, AccountCache] = weakref.WeakKeyDictionary()


def cache_for(session: AsyncSession) -> AccountCache | None:
    """The cache of the database the session reads (one per engine, so per city in tests)."""
    bind = session.bind
    if bind is None:
        return None
    engine = bind.sync_engine
    cache = _caches.get(engine)
    if cache is None:
        cache = _caches[engine] = AccountCache()
    return cache
