"""Notification entity (docs.joinmastodon.org/entities/Notification), a page in a fixed number of queries."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.api.mastodon.entities.account import render_accounts
from fedserver.api.mastodon.entities.filter import is_hidden
from fedserver.api.mastodon.entities.status import render_statuses, timestamp
from fedserver.local.models.actors import Actor
from fedserver.local.models.notifications import Notification
from fedserver.local.models.statuses import Status
from fedserver.local.urls import LocalUrls

# Mastodon's NotificationSerializer includes `status` for these types only (and leaves the key out otherwise).
STATUS_TYPES = ("mention", "status", "reblog", "favourite", "poll", "update")


async def render_notifications(session: AsyncSession, urls: LocalUrls, notifications: Sequence[Notification],
                               viewer: Actor, account_id: int) -> list[dict[str, Any]]:
    """Notification entities in the given order; one whose status the viewer's filters hide is left out."""
    actors = (await session.scalars(select(Actor).where(
        Actor.id.in_({item.from_actor_id for item in notifications})))).all()
    accounts = await render_accounts(session, urls, actors)
    status_ids = {item.status_id for item in notifications if item.kind in STATUS_TYPES and item.status_id}
    statuses = list((await session.scalars(select(Status).where(Status.id.in_(status_ids)))).all()) \
        if status_ids else []
    rendered = await render_statuses(session, urls, statuses, viewer, account_id, filter_context="notifications")
    by_id = {status.id: entity for status, entity in zip(statuses, rendered)}
    result = []
    for item in notifications:
        if item.from_actor_id not in accounts:
            continue
        entity: dict[str, Any] = {"id": str(item.id), "type": item.kind, "created_at": timestamp(item.created_at),
                                  "group_key": f"ungrouped-{item.id}", "account": accounts[item.from_actor_id]}
        if item.kind in STATUS_TYPES:
            status = by_id.get(item.status_id or -1)
            if status is None or is_hidden(status):
                continue
            entity["status"] = status
        result.append(entity)
    return result
