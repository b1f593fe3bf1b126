"""Accept: a remote actor accepted our Follow."""
from __future__ import annotations

from fedserver.activitypub import extract, vocab
from fedserver.inbox.context import Incoming
from fedserver.local import actors, follows


async def handle_accept(incoming: Incoming) -> None:
    """Mark our pending follow of the accepting actor as accepted (matched by the follow's id or its pair)."""
    follow = await answered_follow(incoming)
    if follow is None:
        incoming.skip("no pending follow of ours matches this Accept")
        return
    follower = await actors.find_by_ap_id(incoming.session, follow[0])
    if follower is None or follower.domain != "":
        incoming.skip("the follower is not one of ours")
        return
    if not await follows.accepted_remotely(incoming.session, follower, incoming.actor):
        incoming.skip("no pending follow of ours matches this Accept")


async def answered_follow(incoming: Incoming) -> tuple[str, str] | None:
    """(follower, target) of the Follow this answers; the target must be the signer (only they may accept)."""
    inner = incoming.activity.get("object")
    if isinstance(inner, dict) and extract.type_of(inner) == vocab.FOLLOW:
        follower, target = extract.id_of(inner.get("actor")), extract.id_of(inner.get("object"))
        if follower and target == incoming.actor.ap_id:
            return follower, target
        return None
    follow = await follows.find_by_ap_id(incoming.session, extract.id_of(inner) or "")
    if follow is None or follow.target_id != incoming.actor.id:
        return None
    follower_actor = await actors.find_by_id(incoming.session, follow.follower_id)
    return (follower_actor.ap_id, incoming.actor.ap_id) if follower_actor else None
