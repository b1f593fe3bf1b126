"""A group relaying a member's activity inside an Announce (FEP-1b12; Lemmy communities)."""
from __future__ import annotations

from typing import Any

from fedserver.activitypub import extract, vocab
from fedserver.inbox.context import Incoming
from fedserver.inbox.handlers.create import handle_create
from fedserver.inbox.handlers.update import handle_update
from fedserver.local import actors, group_inbound, remote_statuses


async def handle_relayed(incoming: Incoming, inner: dict[str, Any]) -> None:
    """Apply the inner activity as its own actor; its object was fetched from its origin, never trusted."""
    inner_actor = await actors.get_by_ap_id(incoming.session, extract.id_of(inner.get("actor")) or "")
    kind = extract.type_of(inner)
    object_id = extract.id_of(inner.get("object")) or ""
    if kind == vocab.DELETE:
        # Only the object's own server can say it is gone (prepare() asked it); a group may only take a
        # post out of itself (a moderator's removal, as Lemmy sends it).
        if extract.type_of(incoming.fetched.get(object_id, {})) != vocab.TOMBSTONE:
            reason = inner.get("summary") if isinstance(inner.get("summary"), str) else ""
            if not await group_inbound.receive_removal(incoming.session, incoming.actor, inner_actor,
                                                      object_id, str(reason), now=incoming.now):
                incoming.skip(f"relayed Delete: {object_id} still exists at its origin")
        elif not await remote_statuses.remove(incoming.session, object_id, inner_actor):
            incoming.skip(f"relayed Delete: {object_id} is not stored here")
        return
    relayed = Incoming(incoming.session, incoming.urls, inner, extract.id_of(inner.get("id")) or "", inner_actor,
                       incoming.now, incoming.fetched)
    if not (kind == vocab.CREATE and inner_actor.domain == ""):  # our own resident's post: we have it already
        await (handle_create if kind == vocab.CREATE else handle_update)(relayed)
    if relayed.skipped:
        incoming.skip(f"relayed {kind}: {relayed.skipped}")
    elif kind == vocab.CREATE:
        activity = incoming.activity
        await group_inbound.received_from_group(incoming.session, incoming.actor, object_id, incoming.activity_id,
                                                extract.iri_list(activity.get("to")),
                                                extract.iri_list(activity.get("cc")), now=incoming.now)
