"""A small in-process cache of rendered public documents (actors, outbox pages, public statuses).

Peers fetch the same actor and outbox documents again and again; rendering them costs a database
round trip each time. Entries live at most `ttl` seconds and are dropped at once whenever this
process commits a write, so a deleted post leaves this process's cache with the commit; another
worker process may serve it for at most `ttl` seconds (Mastodon lets peers cache the same
documents for 180 s with Cache-Control). Only anonymous requests are cached.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedDocument:
    body: bytes
    status_code: int
    media_type: str
    headers: tuple[tuple[str, str], ...]


class DocumentCache:
    """LRU of rendered responses, emptied by `invalidate()` and by age."""

    def __init__(self, ttl: float = 5.0, max_entries: int = 4096) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, int, CachedDocument]] = OrderedDict()
        self._generation = 0

    @property
    def generation(self) -> int:
        """Bumped by every invalidation; a render started before a write must not be stored after it."""
        return self._generation

    def get(self, key: str) -> CachedDocument | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, generation, document = entry
        if generation != self._generation or expires_at < time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return document

    def put(self, key: str, document: CachedDocument, generation: int) -> None:
        """Store a render that began at `generation`; dropped if a write committed meanwhile."""
        if self._ttl <= 0 or generation != self._generation:
            return
        self._entries[key] = (time.monotonic() + self._ttl, generation, document)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def invalidate(self) -> None:
        """Forget everything: called after each committed write in this process."""
        self._generation += 1
        self._entries.clear()
