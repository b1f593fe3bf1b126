"""Delete: a remote actor deleted a post, or itself (then everything of theirs goes)."""
from __future__ import annotations

from fedserver.activitypub import extract
from fedserver.inbox.context import Incoming
from fedserver.local import actors, remote_statuses


async def handle_delete(incoming: Incoming) -> None:
    """Remove what the actor owns; the rows and everything hanging off them go (no soft delete)."""
    object_id = extract.id_of(incoming.activity.get("object")) or ""
    if object_id == incoming.actor.ap_id:
        await actors.forget_remote(incoming.session, incoming.actor)
        return
    if actors.origin_of(object_id) != actors.origin_of(incoming.actor.ap_id):
        incoming.skip(f"{incoming.actor.ap_id} cannot delete {object_id} of another server")
        return
    if not await remote_statuses.remove(incoming.session, object_id, incoming.actor):
        incoming.skip(f"{object_id} is not stored here")
