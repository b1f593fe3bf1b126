"""Site: what the composition root hands to adapters (settings, URLs, sessions)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fedserver.document_cache import DocumentCache
from fedserver.config import Settings
from fedserver.local.urls import LocalUrls


@dataclass(frozen=True)
class Site:
    settings: Settings
    urls: LocalUrls
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    documents: DocumentCache
    secret_key: bytes  # signs cookies and CSRF tokens; kept in <data dir>/secret_key
