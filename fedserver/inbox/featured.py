"""A remote actor's featured collection (its pinned posts), read when we first meet the actor, as Mastodon
does (ActivityPub::FetchFeaturedCollectionService): a bounded number of fetches, failures ignored."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError

from fedserver.activitypub import extract, vocab
from fedserver.activitypub.convert.note import parse_note
from fedserver.activitypub.errors import MalformedObject, NotAllowed, OriginMismatch, PeerUnavailable
from fedserver.activitypub.fetch import Gone
from fedserver.activitypub.shapes import Note
from fedserver.inbox.context import InboxDeps
from fedserver.local import actors, pins, remote_statuses
from fedserver.local.errors import LocalError
from fedserver.local.models.actors import Actor
from fedserver.local.models.statuses import Status

log = logging.getLogger(__name__)

MAX_ITEMS = pins.MAX_PINS  # posts read from the collection; each may cost one fetch
# What a peer may answer instead of its collection or a post: then we simply know fewer pins.
UNREADABLE = (Gone, PeerUnavailable, MalformedObject, OriginMismatch, NotAllowed, LocalError)


async def refresh(deps: InboxDeps, actor: Actor, *, now: datetime) -> None:
    """Pin here the posts the actor's featured collection lists; if it cannot be read, nothing changes."""
    if actor.is_local or not actor.featured_url:
        return
    try:
        items = await _items(deps, actor.featured_url)
    except UNREADABLE as exc:
        log.info("featured collection of %s not read: %s", actor.ap_id, exc)
        return
    notes = [note for note in [await _note(deps, actor, item) for item in items[:MAX_ITEMS]] if note is not None]
    try:
        await _pin(deps, actor, notes, now=now)
    except (IntegrityError, OperationalError) as exc:  # a post stored meanwhile by the inbox, a busy database
        log.info("featured posts of %s not stored: %s", actor.ap_id, exc)


async def _pin(deps: InboxDeps, actor: Actor, notes: list[Note], *, now: datetime) -> None:
    async with deps.sessions() as session, session.begin():
        author = await actors.find_by_ap_id(session, actor.ap_id)
        if author is None:  # deleted meanwhile
            return
        featured: list[Status] = []
        for note in notes:
            featured.append(await remote_statuses.find(session, note.ap_id)
                            or await remote_statuses.store(session, note, author, now=now, backfill=True))
        await pins.replace_remote(session, author, featured)


async def _items(deps: InboxDeps, collection_url: str) -> list[Any]:
    """The collection's items, from the collection itself or its first page (Mastodon embeds them)."""
    collection = await deps.fetcher.fetch_object(collection_url)
    items = _listed(collection)
    first = collection.get("first")
    if items or first is None:
        return items
    if isinstance(first, dict):
        return _listed(first)
    page_url = extract.id_of(first)
    if page_url is None or actors.origin_of(page_url) != actors.origin_of(collection_url):
        return []
    return _listed(await deps.fetcher.fetch_object(page_url))


def _listed(document: dict[str, Any]) -> list[Any]:
    return extract.as_list(document.get("orderedItems", document.get("items")))


async def _note(deps: InboxDeps, actor: Actor, item: Any) -> Note | None:
    """One pinned post: embedded from the actor's own origin, or fetched from it; None when unusable."""
    item_id = extract.id_of(item)
    if item_id is None or actors.origin_of(item_id) != actors.origin_of(actor.ap_id):
        return None
    try:
        document = item if isinstance(item, dict) and extract.type_of(item) in vocab.POST_TYPES \
            else await deps.fetcher.fetch_object(item_id)
        note = parse_note(document)
    except UNREADABLE as exc:
        log.info("featured post %s of %s not read: %s", item_id, actor.ap_id, exc)
        return None
    return note if note.attributed_to == actor.ap_id else None
