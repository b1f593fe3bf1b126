"""Undo: a remote actor takes back a Follow, Like, Announce or Block."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fedserver.activitypub import extract, vocab
from fedserver.inbox.context import Incoming
from fedserver.local import actors, blocks, boosts, follows, likes, remote_statuses
from fedserver.local.models.actors import Actor


async def handle_undo(incoming: Incoming) -> None:
    """Undo what the signer did before; an embedded activity must be the signer's own."""
    inner = incoming.activity.get("object")
    inner_id = extract.id_of(inner) or ""
    embedded: dict[str, Any] = inner if isinstance(inner, dict) else {}
    if embedded and extract.id_of(embedded.get("actor")) not in (None, incoming.actor.ap_id):
        incoming.skip("an actor can only undo its own activities")
        return
    kind = extract.type_of(embedded)
    # Some servers send only the IRI of what they undo: then each kind is tried in turn.
    candidates = [_UNDOERS[kind]] if kind in _UNDOERS else list(_UNDOERS.values()) if not embedded else []
    for undo in candidates:
        if await undo(incoming, embedded, inner_id):
            return
    incoming.skip(f"nothing to undo for {kind or 'activity'} {inner_id}")


async def _object_actor(incoming: Incoming, embedded: dict[str, Any]) -> Actor | None:
    return await actors.find_by_ap_id(incoming.session, extract.id_of(embedded.get("object")) or "")


async def _undo_follow(incoming: Incoming, embedded: dict[str, Any], inner_id: str) -> bool:
    target = await _object_actor(incoming, embedded) if embedded else None
    if target is None:
        follow = await follows.find_by_ap_id(incoming.session, inner_id)
        target = await actors.find_by_id(incoming.session, follow.target_id) if follow else None
    return target is not None and await follows.forget(incoming.session, incoming.actor, target)


async def _undo_like(incoming: Incoming, embedded: dict[str, Any], inner_id: str) -> bool:
    status = await remote_statuses.find(incoming.session, extract.id_of(embedded.get("object")) or "")
    return await likes.undo_remote(incoming.session, incoming.actor, inner_id or None, status,
                                   likes.GroupRelay(incoming.urls, incoming.activity, incoming.now))


async def _undo_announce(incoming: Incoming, embedded: dict[str, Any], inner_id: str) -> bool:
    return await boosts.undo_remote(incoming.session, incoming.actor, inner_id)


async def _undo_block(incoming: Incoming, embedded: dict[str, Any], inner_id: str) -> bool:
    target = await _object_actor(incoming, embedded) if embedded else None
    return await blocks.undo_remote(incoming.session, incoming.actor, target, inner_id or None)


_UNDOERS: dict[str, Callable[[Incoming, dict[str, Any], str], Awaitable[bool]]] = {
    vocab.FOLLOW: _undo_follow, vocab.LIKE: _undo_like, vocab.ANNOUNCE: _undo_announce, vocab.BLOCK: _undo_block,
}
