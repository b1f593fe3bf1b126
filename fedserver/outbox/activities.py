"""Activities built from local actions: the JSON that publish() stores and sends."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from fedserver.activitypub import vocab
from fedserver.activitypub.convert.activity import render_activity
from fedserver.activitypub.convert.note import render_note
from fedserver.activitypub.shapes import Activity, Note


def build_create(note: Note) -> dict[str, Any]:
    """Create of a new post, addressed like the post itself (Mastodon: id is the object's + /activity)."""
    return render_activity(Activity(
        ap_id=f"{note.ap_id}/activity", type=vocab.CREATE, actor=note.attributed_to,
        object=render_note(note), to=note.to, cc=note.cc, published=note.published,
    ))


def build_update(note: Note, activity_ap_id: str, now: datetime) -> dict[str, Any]:
    """Update of an edited post; each edit has its own activity id."""
    return render_activity(Activity(
        ap_id=activity_ap_id, type=vocab.UPDATE, actor=note.attributed_to,
        object=render_note(note), to=note.to, cc=note.cc, published=now,
    ))


def build_delete(actor_ap_id: str, object_ap_id: str, activity_ap_id: str,
                 to: tuple[str, ...], cc: tuple[str, ...]) -> dict[str, Any]:
    """Delete of a post, carrying a Tombstone as Mastodon sends it."""
    tombstone: dict[str, object] = {"id": object_ap_id, "type": vocab.TOMBSTONE}
    return render_activity(Activity(
        ap_id=activity_ap_id, type=vocab.DELETE, actor=actor_ap_id, object=tombstone, to=to, cc=cc,
    ))
