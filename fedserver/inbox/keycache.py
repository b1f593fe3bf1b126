"""Short-lived caches for the verify step: signers by key id, and which servers the instance refuses.

Every inbox POST needs its signer; reading it from the database each time cost about a third of
an accepted POST (bench/inbox.py). Entries live `ttl` seconds; a failing signature bypasses the
cache (the key is refetched), so a rotated key is never held against its owner.

Domain blocks must take effect at once. Their answers are kept for two seconds at most, and every
commit in this process that changes the domain_blocks table empties that cache (`watch`), so a
block made here applies to the next POST; one made by another process applies within the TTL.
"""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session

from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import DomainBlock

T = TypeVar("T")
_CHANGED = "fedserver_domain_blocks_changed"  # session.info flag between flush and commit
BLOCKS_TABLE = DomainBlock.__tablename__


@dataclass
class _Timed(Generic[T]):
    ttl: float
    entries: dict[str, tuple[float, T]] = field(default_factory=dict)
    max_entries: int = 10_000
    generation: int = 0  # bumped by forget(): a load that overlapped it is not kept

    async def get(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        hit = self.entries.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        generation = self.generation
        value = await load()
        if generation != self.generation or self.ttl <= 0:
            return value  # forgotten while loading: the value may predate the change
        if len(self.entries) >= self.max_entries:
            self.entries.clear()
        self.entries[key] = (time.monotonic() + self.ttl, value)
        return value

    def forget(self, key: str | None = None) -> None:
        self.generation += 1
        if key is None:
            self.entries.clear()
        else:
            self.entries.pop(key, None)


@dataclass
class VerifyCaches:
    """What InboxDeps carries for verify.py; one per app (per process)."""

    signers: _Timed[Actor | None] = field(default_factory=lambda: _Timed[Actor | None](ttl=60.0))
    # Off (ttl 0) until `watch` sees every commit of the sessions that could write a block.
    blocked_domains: _Timed[bool] = field(default_factory=lambda: _Timed[bool](ttl=0.0))
    watched: set[type] = field(default_factory=set)

    def watch(self, sessions: async_sessionmaker[AsyncSession], ttl: float = 2.0) -> None:
        """Cache domain-block answers for `ttl` seconds, emptied by each commit that changes a block."""
        session_class = sessions.kw.get("sync_session_class")
        if not isinstance(session_class, type) or session_class is Session:
            return  # a shared Session class: listening to it would hear every database; stay uncached
        if session_class in self.watched:
            return  # InboxDeps copied with dataclasses.replace share these caches
        self.watched.add(session_class)
        event.listen(session_class, "after_flush", _note_flushed_blocks)
        event.listen(session_class, "do_orm_execute", _note_statement_on_blocks)
        event.listen(session_class, "after_commit", self._committed)
        event.listen(session_class, "after_rollback", _rolled_back)
        self.blocked_domains.ttl = ttl

    def _committed(self, session: Session) -> None:
        if session.info.pop(_CHANGED, False):
            self.blocked_domains.forget()


def _note_flushed_blocks(session: Session, _context: Any) -> None:
    if any(isinstance(row, DomainBlock) for rows in (session.new, session.dirty, session.deleted) for row in rows):
        session.info[_CHANGED] = True


def _note_statement_on_blocks(state: ORMExecuteState) -> None:
    # insert/update/delete statements run through session.execute bypass the flush.
    table = getattr(state.statement, "table", None)
    if (state.is_insert or state.is_update or state.is_delete) and getattr(table, "name", None) == BLOCKS_TABLE:
        state.session.info[_CHANGED] = True


def _rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)
