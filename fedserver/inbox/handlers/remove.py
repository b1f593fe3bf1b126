"""Remove: a remote actor unpins one of its posts (Remove from its featured collection, as Mastodon sends it)."""
from __future__ import annotations

from fedserver.activitypub import extract
from fedserver.inbox.context import Incoming
from fedserver.local import pins, remote_statuses


async def handle_remove(incoming: Incoming) -> None:
    """Unpin the post here; only the actor's own featured collection is changed (ActivityPub::Activity::Remove)."""
    target = extract.id_of(incoming.activity.get("target"))
    if target is None or target != incoming.actor.featured_url:
        incoming.skip(f"Remove from {target or 'no target'} is not applied here (only from the actor's featured posts)")
        return
    object_id = extract.id_of(incoming.activity.get("object")) or ""
    status = await remote_statuses.find(incoming.session, object_id)
    if status is None or not await pins.remove_remote(incoming.session, incoming.actor, status):
        incoming.skip(f"{object_id or 'the object'} is not pinned here")
