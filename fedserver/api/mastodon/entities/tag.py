"""Tag entity (docs.joinmastodon.org/entities/Tag): a hashtag with its use over the last week."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import search
from fedserver.local.models.statuses import Tag
from fedserver.local.urls import LocalUrls


async def render_tags(session: AsyncSession, urls: LocalUrls, tags: Sequence[Tag], *, now: datetime,
                      signed_in: bool = False) -> list[dict[str, Any]]:
    """Tag entities in the given order; history counts come from one grouped query for all of them."""
    history = await search.tag_history(session, [tag.id for tag in tags], now=now)
    entities = []
    for tag in tags:
        entity: dict[str, Any] = {"id": str(tag.id), "name": tag.display_name or tag.name, "url": urls.tag(tag.name),
                                  "history": history.get(tag.id, [])}
        if signed_in:  # Mastodon sends `following` to signed-in users only; nobody follows hashtags here yet
            entity["following"] = False
        entities.append(entity)
    return entities
