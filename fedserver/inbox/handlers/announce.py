"""Announce: a remote actor boosted a post (ours, or one fetched from its origin)."""
from __future__ import annotations

from typing import Any

from fedserver.activitypub import extract, vocab
from fedserver.activitypub.convert.note import parse_note
from fedserver.inbox.context import Incoming
from fedserver.inbox.handlers.relayed import handle_relayed
from fedserver.local import actors, boosts, group_inbound, remote_statuses
from fedserver.local.models.actors import GROUP
from fedserver.local.models.statuses import LISTED_VISIBILITIES, Status


async def handle_announce(incoming: Incoming) -> None:
    """Record the boost; a post we lacked was fetched by prepare() and is stored first."""
    embedded = incoming.activity.get("object")
    object_id = extract.id_of(embedded) or ""
    relayed = embedded if isinstance(embedded, dict) else incoming.fetched.get(object_id)
    if relayed is not None and extract.type_of(relayed) in (vocab.CREATE, vocab.UPDATE, vocab.DELETE):
        await handle_relayed(incoming, relayed)
        return
    relayed_kind = extract.type_of(embedded) if isinstance(embedded, dict) else None
    if relayed_kind in (vocab.LIKE, vocab.UNDO):
        # A group passing on a Like or its Undo (Lemmy): the liked post's own server counts likes, we do not.
        undone = embedded.get("object") if isinstance(embedded, dict) else None
        if relayed_kind == vocab.UNDO and not (isinstance(undone, dict) and extract.type_of(undone) == vocab.LIKE):
            incoming.skip("relayed Undo: only an Undo of a Like is understood, and that is not counted here")
        else:
            incoming.skip(f"relayed {relayed_kind}: likes a group passes on are counted by the post's own server only")
        return
    status = await remote_statuses.find(incoming.session, object_id)
    if status is None and object_id in incoming.fetched:
        note = parse_note(incoming.fetched[object_id])
        author = await actors.get_by_ap_id(incoming.session, note.attributed_to)
        status = await remote_statuses.store(incoming.session, note, author, now=incoming.now, backfill=True)
    if status is None:
        incoming.skip(f"{object_id} could not be found")
        return
    if status.visibility not in LISTED_VISIBILITIES:
        incoming.skip("followers-only and direct posts cannot be boosted")
        return
    activity = incoming.activity
    to, cc = extract.iri_list(activity.get("to")), extract.iri_list(activity.get("cc"))
    if _is_groups_own(incoming, status, incoming.fetched.get(object_id)):
        # Mobilizon relays a group's Event bare, not its Create: it is the group's post, as a relayed Create is.
        await group_inbound.received_from_group(incoming.session, incoming.actor, status.ap_id, incoming.activity_id,
                                                to, cc, now=incoming.now)
        return
    await boosts.record_remote(incoming.session, incoming.actor, status, incoming.activity_id, to, cc,
                               now=incoming.now)


def _is_groups_own(incoming: Incoming, status: Status, document: dict[str, Any] | None) -> bool:
    """A Group announcing a post attributed to it, or whose `audience` is the group."""
    group = incoming.actor
    if group.kind != GROUP:
        return False
    audience = extract.iri_list((document or {}).get("audience"))
    return status.author_id == group.id or status.audience_id == group.id or group.ap_id in audience
