"""Like: a remote actor likes one of our statuses."""
from __future__ import annotations

from fedserver.activitypub import extract
from fedserver.inbox.context import Incoming
from fedserver.local import remote_statuses, likes


async def handle_like(incoming: Incoming) -> None:
    """Record the like of a local status; likes of others' posts are not ours to count."""
    status = await remote_statuses.find(incoming.session, extract.id_of(incoming.activity.get("object")) or "")
    if status is None or not status.is_local:
        incoming.skip("the liked object is not a local status")
        return
    await likes.record_remote(incoming.session, incoming.actor, status, incoming.activity_id, now=incoming.now)
