"""Follow: a remote actor follows one of ours."""
from __future__ import annotations

from fedserver.activitypub import extract
from fedserver.inbox.context import Incoming
from fedserver.local import actors, follows


async def handle_follow(incoming: Incoming) -> None:
    """Accept, hold for approval, or reject; `follows.receive` holds the rule (locked accounts, blocks)."""
    target = await actors.find_by_ap_id(incoming.session, extract.id_of(incoming.activity.get("object")) or "")
    if target is None or target.domain != "":
        incoming.skip("the followed actor is not one of ours")
        return
    await follows.receive(incoming.session, incoming.urls, incoming.actor, target, incoming.activity_id,
                          now=incoming.now)
