"""Before the transaction: fetch what a handler will need (objects from their origin, unknown authors)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from fedserver.activitypub import extract, vocab
from fedserver.activitypub.errors import MalformedObject, OriginMismatch
from fedserver.activitypub.fetch import Gone
from fedserver.inbox import remote
from fedserver.inbox.context import InboxDeps
from fedserver.local import actors, remote_statuses


async def prepare(deps: InboxDeps, activity: dict[str, Any], *, now: datetime) -> dict[str, dict[str, Any]]:
    """Documents by IRI that the handler may read; network I/O happens here, never inside a transaction."""
    kind = extract.type_of(activity)
    if kind in (vocab.CREATE, vocab.UPDATE):
        return await _authored_object(deps, activity, now=now)
    if kind == vocab.ANNOUNCE:
        return await _announced_object(deps, activity, now=now)
    if kind == vocab.ADD:
        return await _pinned_object(deps, activity)
    return {}


async def _pinned_object(deps: InboxDeps, activity: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Add to the actor's featured collection (a pin): a post we lack is fetched from the actor's own origin."""
    object_id = extract.id_of(activity.get("object"))
    actor_ap_id = extract.id_of(activity.get("actor")) or ""
    if object_id is None:
        return {}  # a featured hashtag (Mastodon sends Hashtags by name and href): the handler skips it
    if actors.origin_of(object_id) != actors.origin_of(actor_ap_id):
        raise OriginMismatch(f"{actor_ap_id} cannot pin {object_id} of another server")
    async with deps.sessions() as session:
        actor = await actors.find_by_ap_id(session, actor_ap_id)
        if actor is None or actor.featured_url != extract.id_of(activity.get("target")):
            return {}  # another collection: the handler skips it, nothing to fetch
        if await remote_statuses.find(session, object_id) is not None:
            return {}
    return {object_id: await deps.fetcher.fetch_object(object_id)}


async def _authored_object(deps: InboxDeps, activity: dict[str, Any], *, now: datetime) -> dict[str, dict[str, Any]]:
    """Create/Update: the object must come from the actor's own origin; elsewhere it is re-fetched from its id."""
    embedded = activity.get("object")
    object_id = extract.id_of(embedded)
    if object_id is None:
        raise MalformedObject("object")
    actor_ap_id = extract.id_of(activity.get("actor")) or ""
    if isinstance(embedded, dict) and actors.origin_of(object_id) == actors.origin_of(actor_ap_id):
        document = embedded
    elif actors.origin_of(object_id) != actors.origin_of(actor_ap_id):
        raise OriginMismatch(f"{actor_ap_id} cannot create or update {object_id} of another server")
    else:
        document = await deps.fetcher.fetch_object(object_id)
    return {object_id: document}


async def _announced_object(deps: InboxDeps, activity: dict[str, Any], *, now: datetime) -> dict[str, dict[str, Any]]:
    """Announce: a post we do not have yet is fetched from its own server (never trusted embedded);
    an announced activity (a group relaying a member's post, FEP-1b12) is prepared as that activity."""
    embedded = activity.get("object")
    if isinstance(embedded, dict) and extract.type_of(embedded) in RELAYABLE:
        return await _relayed(deps, embedded, now=now, relayer=extract.id_of(activity.get("actor")) or "")
    if isinstance(embedded, dict) and extract.type_of(embedded) in vocab.ACTIVITY_TYPES:
        return {}  # a group relaying a Like or Undo (Lemmy): the handler skips it, nothing to fetch
    object_id = extract.id_of(embedded)
    if object_id is None:
        raise MalformedObject("object")
    async with deps.sessions() as session:
        if await remote_statuses.find(session, object_id) is not None:
            return {}
    document = await deps.fetcher.fetch_object(object_id)
    if extract.type_of(document) in RELAYABLE:
        return await _relayed(deps, document, now=now)
    await _ensure_author(deps, document, object_id, now=now)
    return {object_id: document}


RELAYABLE = frozenset({vocab.CREATE, vocab.UPDATE, vocab.DELETE})
GONE: dict[str, Any] = {"type": vocab.TOMBSTONE}  # marks an object its origin says no longer exists


async def _relayed(deps: InboxDeps, inner: dict[str, Any], *, now: datetime,
                   relayer: str = "") -> dict[str, dict[str, Any]]:
    """The relayed activity keyed by its id, plus its object fetched from the object's own origin; a group
    relaying a post of its own server embeds it, signed by that same server (as prepare trusts a Create)."""
    inner_id, inner_actor = extract.id_of(inner.get("id")), extract.id_of(inner.get("actor"))
    object_id = extract.id_of(inner.get("object"))
    if not inner_id or not inner_actor or not object_id:
        raise MalformedObject("object", "the announced activity lacks id, actor or object")
    if actors.origin_of(object_id) != actors.origin_of(inner_actor) and extract.type_of(inner) != vocab.DELETE:
        # A group's moderator may remove a post of another server: that Delete is applied only as a removal
        # from the group (handlers/relayed.py), never as the author's own.
        raise OriginMismatch(f"{inner_actor} cannot act on {object_id} of another server")
    await remote.ensure_actor(deps, inner_actor, now=now)
    if actors.origin_of(object_id) == actors.origin_of(deps.urls.base_url):
        return {inner_id: inner}  # a group relaying our own resident's post back to us: we hold the original
    embedded = inner.get("object")
    if isinstance(embedded, dict) and extract.type_of(inner) != vocab.DELETE \
            and actors.origin_of(object_id) == actors.origin_of(relayer):
        return {inner_id: inner, object_id: embedded}  # a private group's posts cannot be fetched anonymously
    try:
        document = await deps.fetcher.fetch_object(object_id)
    except Gone:
        document = GONE
    if extract.type_of(inner) != vocab.DELETE and document is GONE:
        raise MalformedObject("object", f"{object_id} is gone")
    return {inner_id: inner, object_id: document}


async def _ensure_author(deps: InboxDeps, document: dict[str, Any], object_id: str, *, now: datetime) -> None:
    author = extract.id_of(extract.first(document.get("attributedTo")))
    if author is None:
        raise MalformedObject("attributedTo")
    if actors.origin_of(author) != actors.origin_of(object_id):
        raise OriginMismatch(f"{object_id} claims an author on another server")
    await remote.ensure_actor(deps, author, now=now)
