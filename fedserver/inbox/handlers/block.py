"""Block: a remote actor blocks one of ours."""
from __future__ import annotations

from fedserver.activitypub import extract
from fedserver.inbox.context import Incoming
from fedserver.local import actors, blocks


async def handle_block(incoming: Incoming) -> None:
    """End follows both ways; `blocks.record_remote` holds the rule."""
    target = await actors.find_by_ap_id(incoming.session, extract.id_of(incoming.activity.get("object")) or "")
    if target is None or target.domain != "":
        incoming.skip("the blocked actor is not one of ours")
        return
    await blocks.record_remote(incoming.session, incoming.actor, target, incoming.activity_id, now=incoming.now)
