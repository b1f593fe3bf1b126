"""Announce: a remote actor boosted a post (ours, or one fetched from its origin)."""
from __future__ import annotations

from fedserver.activitypub import extract, vocab
from fedserver.activitypub.convert.note import parse_note
from fedserver.inbox.context import Incoming
from fedserver.inbox.handlers.relayed import handle_relayed
from fedserver.local import actors, boosts, remote_statuses
from fedserver.local.models.statuses import LISTED_VISIBILITIES


async def handle_announce(incoming: Incoming) -> None:
    """Record the boost; a post we lacked was fetched by prepare() and is stored first."""
    embedded = incoming.activity.get("object")
    object_id = extract.id_of(embedded) or ""
    relayed = embedded if isinstance(embedded, dict) else incoming.fetched.get(object_id)
    if relayed is not None and extract.type_of(relayed) in (vocab.CREATE, vocab.UPDATE, vocab.DELETE):
        await handle_relayed(incoming, relayed)
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
    await boosts.record_remote(incoming.session, incoming.actor, status, incoming.activity_id,
                               extract.iri_list(activity.get("to")), extract.iri_list(activity.get("cc")),
                               now=incoming.now)
