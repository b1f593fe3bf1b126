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


def build_follow(activity_ap_id: str, follower: str, target: str) -> dict[str, Any]:
    """Follow, addressed to the followed actor (Mastodon expects `object` to be the actor IRI)."""
    return render_activity(Activity(ap_id=activity_ap_id, type=vocab.FOLLOW, actor=follower, object=target))


def build_response(kind: str, activity_ap_id: str, actor: str, follow: dict[str, object]) -> dict[str, Any]:
    """Accept or Reject of a Follow, embedding the Follow so the receiver needs no fetch."""
    return render_activity(Activity(ap_id=activity_ap_id, type=kind, actor=actor, object=follow))


def build_undo(activity_ap_id: str, actor: str, undone: dict[str, Any],
               to: tuple[str, ...] = (), cc: tuple[str, ...] = ()) -> dict[str, Any]:
    """Undo of one of our earlier activities, embedded whole (its @context removed)."""
    inner = {key: value for key, value in undone.items() if key != "@context"}
    return render_activity(Activity(ap_id=activity_ap_id, type=vocab.UNDO, actor=actor, object=inner, to=to, cc=cc))


def build_like(activity_ap_id: str, actor: str, object_ap_id: str) -> dict[str, Any]:
    return render_activity(Activity(ap_id=activity_ap_id, type=vocab.LIKE, actor=actor, object=object_ap_id))


def build_announce(activity_ap_id: str, actor: str, object_ap_id: str, to: tuple[str, ...],
                   cc: tuple[str, ...], published: datetime) -> dict[str, Any]:
    """Announce (a boost), addressed like Mastodon: to Public, cc the booster's followers and the author."""
    return render_activity(Activity(ap_id=activity_ap_id, type=vocab.ANNOUNCE, actor=actor, object=object_ap_id,
                                    to=to, cc=cc, published=published))


def build_vote(vote_ap_id: str, voter: str, question: str, question_author: str, choice: str) -> dict[str, Any]:
    """One poll vote as Mastodon sends it: Create{Note} named after the option, to the poll's author only."""
    note: dict[str, object] = {"id": vote_ap_id, "type": vocab.NOTE, "name": choice, "attributedTo": voter,
                               "inReplyTo": question, "to": question_author}
    return render_activity(Activity(ap_id=f"{vote_ap_id}/activity", type=vocab.CREATE, actor=voter, object=note,
                                    to=(question_author,)))


def build_block(activity_ap_id: str, actor: str, target: str) -> dict[str, Any]:
    return render_activity(Activity(ap_id=activity_ap_id, type=vocab.BLOCK, actor=actor, object=target))


def build_actor_update(activity_ap_id: str, actor_document: dict[str, Any], to: tuple[str, ...]) -> dict[str, Any]:
    """Update of a profile: the whole actor document, so peers refresh names, avatars and keys."""
    return render_activity(Activity(ap_id=activity_ap_id, type=vocab.UPDATE, actor=str(actor_document["id"]),
                                    object=actor_document, to=to))


def build_actor_delete(actor_ap_id: str, activity_ap_id: str) -> dict[str, Any]:
    """Delete of an account, as Mastodon sends it: the actor deletes itself, to Public."""
    return render_activity(Activity(ap_id=activity_ap_id, type=vocab.DELETE, actor=actor_ap_id, object=actor_ap_id,
                                    to=(vocab.PUBLIC,)))


def build_add(activity_ap_id: str, actor: str, object_ap_id: str, featured: str) -> dict[str, Any]:
    """A pin as Mastodon sends it (ActivityPub::AddSerializer): Add of the post's IRI to the actor's featured
    collection, without audience; we add an id of its own, which Pleroma mints itself when it is missing."""
    return render_activity(Activity(ap_id=activity_ap_id, type=vocab.ADD, actor=actor, object=object_ap_id,
                                    target=featured))


def build_remove(activity_ap_id: str, actor: str, object_ap_id: str, featured: str) -> dict[str, Any]:
    """An unpin: Remove of the post's IRI from the actor's featured collection (Mastodon's RemoveSerializer)."""
    return render_activity(Activity(ap_id=activity_ap_id, type=vocab.REMOVE, actor=actor, object=object_ap_id,
                                    target=featured))


def build_group_announce(activity_ap_id: str, group: str, inner: dict[str, Any], to: tuple[str, ...],
                         cc: tuple[str, ...], published: datetime) -> dict[str, Any]:
    """A group relaying a member's activity (FEP-1b12, as Lemmy sends it): Announce of the whole Create,
    Update, Delete or Like embedded (its @context merged into the Announce's), with the group as `audience`."""
    return render_activity(Activity(ap_id=activity_ap_id, type=vocab.ANNOUNCE, actor=group, object=inner,
                                    to=to, cc=cc, audience=group, published=published))


def build_group_removal(activity_ap_id: str, moderator: str, group: str, object_ap_id: str, reason: str,
                        to: tuple[str, ...], cc: tuple[str, ...]) -> dict[str, Any]:
    """A moderator removing a post from a group (Lemmy's mod removal): Delete by the moderator, audience the
    group; the group Announces it (build_group_announce) to every member's server."""
    tombstone: dict[str, object] = {"id": object_ap_id, "type": vocab.TOMBSTONE}
    extra: dict[str, object] = {"summary": reason} if reason else {}  # Lemmy carries the reason here
    return render_activity(Activity(ap_id=activity_ap_id, type=vocab.DELETE, actor=moderator, object=tombstone,
                                    to=to, cc=cc, audience=group, extra=extra))
