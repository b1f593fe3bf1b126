"""Conversation entity (docs.joinmastodon.org/entities/Conversation), a page in a fixed number of queries."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.api.mastodon.entities.account import render_accounts
from fedserver.api.mastodon.entities.status import render_statuses
from fedserver.local.conversations import Conversation
from fedserver.local.models.actors import Actor
from fedserver.local.urls import LocalUrls


async def render_conversations(session: AsyncSession, urls: LocalUrls, conversations: Sequence[Conversation],
                               viewer: Actor, account_id: int) -> list[dict[str, Any]]:
    """Conversation entities: participants (everyone but the viewer), the last status, unread."""
    actor_ids = {actor_id for item in conversations for actor_id in item.participant_ids}
    actors = (await session.scalars(select(Actor).where(Actor.id.in_(actor_ids)))).all() if actor_ids else []
    accounts = await render_accounts(session, urls, actors)
    last = await render_statuses(session, urls, [item.last_status for item in conversations], viewer, account_id,
                                 filter_context="thread")
    return [{"id": str(item.id), "unread": item.is_unread,
             "accounts": [accounts[actor_id] for actor_id in item.participant_ids if actor_id in accounts],
             "last_status": status} for item, status in zip(conversations, last)]
