"""Update: a remote actor edited a post, or its own profile (keys included)."""
from __future__ import annotations

from fedserver.activitypub import extract, vocab
from fedserver.activitypub.convert.actor import parse_actor
from fedserver.activitypub.convert.note import parse_note
from fedserver.inbox.context import Incoming
from fedserver.local import actors, remote_statuses


async def handle_update(incoming: Incoming) -> None:
    """Apply an edit; only the owner of the object may update it (the signer is the actor)."""
    object_id = extract.id_of(incoming.activity.get("object")) or ""
    document = incoming.fetched.get(object_id) or {}
    kind = extract.type_of(document)
    if kind in vocab.ACTOR_TYPES:
        if object_id != incoming.actor.ap_id:
            incoming.skip(f"{incoming.actor.ap_id} may not update the profile {object_id}")
            return
        await actors.store_remote(incoming.session, parse_actor(document), now=incoming.now)
        return
    if kind not in vocab.POST_TYPES:
        incoming.skip(f"Update of {kind or 'nothing'} is not applied here")
        return
    note = parse_note(document)
    if note.attributed_to != incoming.actor.ap_id:
        incoming.skip(f"{note.ap_id} is attributed to {note.attributed_to}, not to the actor")
        return
    if await remote_statuses.update(incoming.session, note, incoming.actor, now=incoming.now) is None:
        incoming.skip(f"{note.ap_id} is not stored here")
