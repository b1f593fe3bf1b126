"""HANDLERS: the one table of activity types we apply; anything else is stored and skipped."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from fedserver.activitypub import extract, vocab
from fedserver.inbox.context import Incoming
from fedserver.inbox.handlers.accept import handle_accept
from fedserver.inbox.handlers.add import handle_add
from fedserver.inbox.handlers.announce import handle_announce
from fedserver.inbox.handlers.block import handle_block
from fedserver.inbox.handlers.create import handle_create
from fedserver.inbox.handlers.delete import handle_delete
from fedserver.inbox.handlers.follow import handle_follow
from fedserver.inbox.handlers.like import handle_like
from fedserver.inbox.handlers.reject import handle_reject
from fedserver.inbox.handlers.remove import handle_remove
from fedserver.inbox.handlers.undo import handle_undo
from fedserver.inbox.handlers.update import handle_update
from fedserver.local import group_relay, remote_statuses

Handler = Callable[[Incoming], Awaitable[None]]

HANDLERS: dict[str, Handler] = {
    vocab.FOLLOW: handle_follow,
    vocab.ACCEPT: handle_accept,
    vocab.REJECT: handle_reject,
    vocab.UNDO: handle_undo,
    vocab.CREATE: handle_create,
    vocab.UPDATE: handle_update,
    vocab.DELETE: handle_delete,
    vocab.ANNOUNCE: handle_announce,
    vocab.LIKE: handle_like,
    vocab.BLOCK: handle_block,
    vocab.ADD: handle_add,
    vocab.REMOVE: handle_remove,
}


async def dispatch(incoming: Incoming) -> None:
    """Run the handler for the activity's type, or skip it with the reason."""
    kind = extract.type_of(incoming.activity) or ""
    handler = HANDLERS.get(kind)
    if handler is None:
        incoming.skip(f"{kind or 'an activity without type'} is not supported")
        return
    if kind == vocab.DELETE:  # before the row goes: it says which group the post was in
        await _relay_to_group(incoming, kind, before=True)
    await handler(incoming)
    if kind in (vocab.CREATE, vocab.UPDATE, vocab.LIKE) and (incoming.skipped is None or kind == vocab.LIKE):
        await _relay_to_group(incoming, kind, before=False)


async def _relay_to_group(incoming: Incoming, kind: str, *, before: bool) -> None:
    """FEP-1b12: what a peer did to a post addressed to one of our groups, the group passes on to its members."""
    object_id = extract.id_of(incoming.activity.get("object")) or ""
    status = await remote_statuses.find(incoming.session, object_id)
    if before:
        await group_relay.relay_incoming_delete(incoming.session, incoming.urls, incoming.activity, status,
                                                incoming.actor, now=incoming.now)
        return
    await group_relay.relay_incoming(incoming.session, incoming.urls, incoming.activity,
                                     incoming.fetched.get(object_id), status, incoming.actor, now=incoming.now)
