"""publish(): the only entry point local/ calls to send an activity and list it in the outbox."""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub import extract
from fedserver.outbox.deliveries import Delivery
from fedserver.outbox.published import PublishedActivity


async def publish(
    session: AsyncSession,
    activity: dict[str, Any],
    *,
    inbox_urls: Iterable[str] = (),
    is_listed: bool = False,
    object_ap_id: str | None = None,
) -> PublishedActivity:
    """Store the activity and queue one delivery per distinct inbox, in the caller's transaction."""
    body = json.dumps(activity, ensure_ascii=False, separators=(",", ":"))
    row = PublishedActivity(
        ap_id=str(activity["id"]),
        actor_ap_id=str(activity["actor"]),
        type=str(activity["type"]),
        object_ap_id=object_ap_id or extract.id_of(activity.get("object")),
        is_listed=is_listed,
        body=body,
    )
    session.add(row)
    await session.flush()
    for inbox_url in dict.fromkeys(inbox_urls):  # de-duplicated, order kept
        session.add(Delivery(activity_id=row.id, sender_ap_id=row.actor_ap_id, inbox_url=inbox_url))
    await session.flush()
    return row
