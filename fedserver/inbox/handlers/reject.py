"""Reject: a remote actor declined our Follow, or removed us as a follower."""
from __future__ import annotations

from fedserver.inbox.context import Incoming
from fedserver.inbox.handlers.accept import answered_follow
from fedserver.local import actors, follows


async def handle_reject(incoming: Incoming) -> None:
    """Forget our follow of the rejecting actor."""
    pair = await answered_follow(incoming)
    follower = await actors.find_by_ap_id(incoming.session, pair[0]) if pair else None
    if follower is None or follower.domain != "":
        incoming.skip("no follow of ours matches this Reject")
        return
    if not await follows.forget(incoming.session, follower, incoming.actor):
        incoming.skip("no follow of ours matches this Reject")
