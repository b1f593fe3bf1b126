"""What inbox routes, the worker and handlers are given: dependencies, and the activity being applied."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fedserver.activitypub.fetch import Fetcher
from fedserver.inbox.intake import Intake
from fedserver.inbox.keycache import VerifyCaches
from fedserver.local.models.actors import Actor
from fedserver.local.urls import LocalUrls


@dataclass(frozen=True)
class InboxDeps:
    """Built by the composition root (app.py); nothing below reads app.state."""

    sessions: async_sessionmaker[AsyncSession]
    urls: LocalUrls
    fetcher: Fetcher
    clock: Callable[[], datetime]
    caches: VerifyCaches = field(default_factory=VerifyCaches)
    intake: Intake = field(init=False)  # stores what the routes accepted

    def __post_init__(self) -> None:
        object.__setattr__(self, "intake", Intake(self.sessions))
        self.caches.watch(self.sessions)  # domain blocks: cached, and forgotten when one changes


@dataclass
class Incoming:
    """One activity being applied inside the worker's transaction; handlers read, services write."""

    session: AsyncSession
    urls: LocalUrls
    activity: dict[str, Any]
    activity_id: str
    actor: Actor  # the verified signer, equal to activity["actor"]
    now: datetime
    # Documents fetched before the transaction opened (no network I/O inside it), by IRI.
    fetched: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: str | None = None

    def skip(self, reason: str) -> None:
        """Mark the activity as understood but not applied; the reason is written on the inbox row."""
        self.skipped = reason
