"""Remote actors and objects we were told about: fetched (signed, outside transactions) and stored."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fedserver.activitypub import extract, signatures, vocab
from fedserver.activitypub.convert.actor import parse_actor
from fedserver.activitypub.errors import MalformedObject, OriginMismatch
from fedserver.inbox import featured
from fedserver.inbox.context import InboxDeps
from fedserver.local import actors
from fedserver.local.models.actors import Actor

log = logging.getLogger(__name__)


async def actor_for_key(deps: InboxDeps, key_id: str, *, now: datetime, refresh: bool = False) -> Actor:
    """The actor owning a signing key: from our table, or fetched from its server and stored."""
    if not refresh:
        async def load() -> Actor | None:
            async with deps.sessions() as session:
                return await actors.find_by_key_id(session, key_id)

        known = await deps.caches.signers.get(key_id, load)
        if known is not None:
            return known
    deps.caches.signers.forget(key_id)
    hint = signatures.key_owner_hint(key_id)
    document = await deps.fetcher.fetch_object(hint)
    if extract.type_of(document) not in vocab.ACTOR_TYPES or extract.id_of(document.get("id")) != hint:
        # GoToSocial's <actor>/main-key answers a stub that names its owner (GoToSocial docs,
        # http_signatures.md "Quirks"): the owner's own document carries the key.
        key = extract.first(document.get("publicKey"))
        owner = extract.id_of(document.get("owner")) or (
            extract.id_of(key.get("owner")) if isinstance(key, dict) else None)
        if owner is None:
            raise MalformedObject("owner", f"{key_id} is neither an actor nor a key with an owner")
        document = await deps.fetcher.fetch_object(owner)
    # Check before storing: a document that claims another server's key id must leave no row behind.
    shape = parse_actor(document)
    if shape.public_key is None or shape.public_key.id != key_id:
        raise OriginMismatch(f"{shape.ap_id} does not own the key {key_id}")
    if actors.origin_of(key_id) != actors.origin_of(shape.ap_id):
        raise OriginMismatch(f"{shape.ap_id} claims the key {key_id} of another server")
    return await store_actor_document(deps, document, now=now)


async def ensure_actor(deps: InboxDeps, ap_id: str, *, now: datetime) -> Actor:
    """A remote actor we may not know yet (the author of a boosted post, say)."""
    async with deps.sessions() as session:
        known = await actors.find_by_ap_id(session, ap_id)
    if known is not None:
        return known
    actor = await store_actor_document(deps, await deps.fetcher.fetch_object(ap_id), now=now)
    await featured.refresh(deps, actor, now=now)  # its pinned posts, as Mastodon reads them on first sight
    return actor


async def store_actor_document(deps: InboxDeps, document: dict[str, Any], *, now: datetime) -> Actor:
    """Parse an actor document and insert or refresh its row, in a transaction of its own."""
    shape = parse_actor(document)
    async with deps.sessions() as session, session.begin():
        return await actors.store_remote(session, shape, now=now)

