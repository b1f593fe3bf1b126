"""Create: a remote actor posted something (Note, Article, Page, Question, Event ...)."""
from __future__ import annotations

from typing import Any

from fedserver.activitypub import extract, vocab
from fedserver.activitypub.convert.note import parse_note
from fedserver.inbox.context import Incoming
from fedserver.local import group_inbound, poll_votes, remote_statuses


async def handle_create(incoming: Incoming) -> None:
    """Store the post; its author must be the activity's actor, and only post types are stored."""
    object_id = extract.id_of(incoming.activity.get("object")) or ""
    document = incoming.fetched.get(object_id)
    if document is not None and await _vote(incoming, object_id, document):
        return
    if document is None or extract.type_of(document) not in vocab.POST_TYPES:
        incoming.skip(f"Create of {extract.type_of(document or {}) or 'nothing'} is not stored here")
        return
    note = parse_note(document)
    author = incoming.actor
    if note.attributed_to != incoming.actor.ap_id:
        # A Mobilizon group event: sent by its organizer, attributed to the group; stored as the group's post.
        group = await group_inbound.event_group(incoming.session, incoming.actor, note.attributed_to,
                                                extract.id_of(document.get("actor")))
        if group is None:
            incoming.skip(f"{note.ap_id} is attributed to {note.attributed_to}, not to the actor")
            return
        author = group
    status = await remote_statuses.store(incoming.session, note, author, now=incoming.now)
    if author is not incoming.actor and status.audience_id is None:
        status.audience_id = author.id


async def _vote(incoming: Incoming, object_id: str, document: dict[str, Any]) -> bool:
    """A vote on one of our polls: a Note (Mastodon, Misskey) or Answer (Pleroma) named after an option,
    answering the Question, without content; poll_votes decides whether it counts."""
    name, question = document.get("name"), extract.id_of(document.get("inReplyTo"))
    if extract.type_of(document) not in (vocab.NOTE, "Answer") or not isinstance(name, str) or question is None \
            or document.get("content"):
        return False
    if extract.id_of(document.get("attributedTo")) != incoming.actor.ap_id:
        return False  # parse_note below refuses it with the reason
    return await poll_votes.record_remote(incoming.session, incoming.actor, question, name, object_id,
                                          now=incoming.now)
