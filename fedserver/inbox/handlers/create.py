"""Create: a remote actor posted something (Note, Article, Page, Question, Event ...)."""
from __future__ import annotations

from fedserver.activitypub import extract, vocab
from fedserver.activitypub.convert.note import parse_note
from fedserver.inbox.context import Incoming
from fedserver.local import remote_statuses


async def handle_create(incoming: Incoming) -> None:
    """Store the post; its author must be the activity's actor, and only post types are stored."""
    object_id = extract.id_of(incoming.activity.get("object")) or ""
    document = incoming.fetched.get(object_id)
    if document is None or extract.type_of(document) not in vocab.POST_TYPES:
        incoming.skip(f"Create of {extract.type_of(document or {}) or 'nothing'} is not stored here")
        return
    note = parse_note(document)
    if note.attributed_to != incoming.actor.ap_id:
        incoming.skip(f"{note.ap_id} is attributed to {note.attributed_to}, not to the actor")
        return
    await remote_statuses.store(incoming.session, note, incoming.actor, now=incoming.now)
