"""Add: a remote actor pins one of its posts (Add to its featured collection, as Mastodon sends it)."""
from __future__ import annotations

from fedserver.activitypub import extract
from fedserver.activitypub.convert.note import parse_note
from fedserver.inbox.context import Incoming
from fedserver.local import pins, remote_statuses


async def handle_add(incoming: Incoming) -> None:
    """Pin the post here; only Add to the actor's own featured collection of its own post counts
    (Mastodon's ActivityPub::Activity::Add); a post we lacked was fetched by prepare() and is stored first."""
    target = extract.id_of(incoming.activity.get("target"))
    if target is None or target != incoming.actor.featured_url:
        incoming.skip(f"Add to {target or 'no target'} is not applied here (only to the actor's featured posts)")
        return
    object_id = extract.id_of(incoming.activity.get("object")) or ""
    status = await remote_statuses.find(incoming.session, object_id)
    if status is None and object_id in incoming.fetched:
        note = parse_note(incoming.fetched[object_id])
        if note.attributed_to != incoming.actor.ap_id:
            incoming.skip(f"{object_id} is attributed to {note.attributed_to}, not to the actor")
            return
        status = await remote_statuses.store(incoming.session, note, incoming.actor, now=incoming.now, backfill=True)
    if status is None:
        incoming.skip(f"{object_id or 'the object'} could not be found")
        return
    reason = await pins.record_remote(incoming.session, incoming.actor, status)
    if reason is not None:
        incoming.skip(reason)
