"""The one verify step of an inbox POST: size, JSON, signature, Digest, Date and origin."""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fedserver.activitypub import extract, signatures, signatures_rfc9421
from fedserver.activitypub.errors import MalformedObject, OriginMismatch, PeerUnavailable
from fedserver.activitypub.errors import NotAllowed as FetchNotAllowed
from fedserver.activitypub.fetch import Gone
from fedserver.inbox import remote
from fedserver.inbox.context import InboxDeps
from fedserver.local import actors
from fedserver.local.errors import NotAllowed
from fedserver.local.models.actors import Actor

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_048_576  # Mastodon refuses larger inbox bodies too
KEY_REFETCH_INTERVAL = timedelta(minutes=10)  # key rotation: refetch a failing key at most this often
# Mastodon sends Add and Remove (pins) without an id: we give them one (_minted_id).
ID_LESS = frozenset({"Add", "Remove"})


class Refused(Exception):
    """The POST is not accepted; `status_code` and the message go back to the sender."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


class Ignored(Exception):
    """Nothing to store, yet nothing wrong either: answered 202 (a deleted actor we never knew)."""


class _KeyGone(Refused):
    """The signer's key document is gone (404/410)."""


@dataclass(frozen=True)
class Verified:
    activity: dict[str, Any]
    activity_id: str
    activity_type: str
    actor_ap_id: str  # the verified signer, equal to activity["actor"]


def parse_body(body: bytes) -> dict[str, Any]:
    """The activity JSON; 413 when too large, 400 when not an activity."""
    if len(body) > MAX_BODY_BYTES:
        raise Refused(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(document, dict):
        raise Refused(400, "the body is not a JSON object")
    if not extract.id_of(document.get("actor")):
        raise Refused(400, "the activity has no actor")
    if not extract.type_of(document):
        raise Refused(400, "the activity has no type")
    if not extract.id_of(document.get("id")) and extract.type_of(document) not in ID_LESS:
        raise Refused(400, "the activity has no id")
    return document


def _minted_id(actor_ap_id: str, kind: str, headers: Mapping[str, str], body: bytes) -> str:
    """An id on the actor's own origin for an activity sent without one (Mastodon's Add and Remove).
    The signed Date is part of it: pin, unpin, pin again are three activities with identical bodies,
    while a redelivery (signed anew) only repeats an Add or Remove, which changes nothing twice."""
    digest = hashlib.sha256(headers.get("date", "").encode() + b"\n" + body).hexdigest()[:32]
    return f"{actor_ap_id}#{kind.lower()}/{digest}"


async def verify_post(deps: InboxDeps, *, path_with_query: str, headers: Mapping[str, str], body: bytes,
                      now: datetime) -> Verified:
    """Everything a POST must pass before it is stored; raises Refused with the reason."""
    activity = parse_body(body)
    key_id = _key_id(headers)
    if await _domain_blocked(deps, key_id):
        raise Refused(403, "this server does not accept activities from your server")
    try:
        signer = await _verified_signer(deps, key_id, path_with_query, headers, body, now)
    except _KeyGone:
        # Mastodon does the same: a Delete of an actor whose key is already gone needs no work.
        if extract.type_of(activity) == "Delete" and extract.id_of(activity.get("object")) == activity.get("actor"):
            raise Ignored() from None
        raise
    actor_ap_id = extract.id_of(activity.get("actor")) or ""
    if actor_ap_id != signer.ap_id:
        log.warning("refused %s: signed by %s but actor is %s", activity.get("id"), signer.ap_id, actor_ap_id)
        raise Refused(401, f"the request is signed by {signer.ap_id}, not by the activity's actor {actor_ap_id}")
    activity_id = extract.id_of(activity.get("id")) or _minted_id(actor_ap_id, extract.type_of(activity) or "",
                                                                 headers, body)
    if actors.origin_of(activity_id) != actors.origin_of(actor_ap_id):
        log.warning("refused %s: id not on the origin of %s", activity_id, actor_ap_id)
        raise Refused(403, "the activity id is not on the actor's own server")
    return Verified(activity, activity_id, extract.type_of(activity) or "", signer.ap_id)


def _key_id(headers: Mapping[str, str]) -> str:
    scheme = signatures.signature_scheme(headers)
    try:
        if scheme == "cavage":
            return signatures.parse_signature_header(headers.get("signature", "")).key_id
        if scheme == "rfc9421":
            return signatures_rfc9421.parse_message_signature(headers).key_id
    except signatures.SignatureError as exc:
        raise Refused(401, f"the signature cannot be read: {exc.reason}") from None
    raise Refused(401, "the request is not signed (HTTP Signatures, draft-cavage or RFC 9421)")


async def _domain_blocked(deps: InboxDeps, key_id: str) -> bool:
    # Cached for a moment, and forgotten whenever this process commits a change to the blocks (keycache.py).
    domain = actors.domain_of(key_id)

    async def load() -> bool:
        async with deps.sessions() as session:
            return await actors.is_domain_blocked(session, domain)

    return await deps.caches.blocked_domains.get(domain, load)


async def _verified_signer(deps: InboxDeps, key_id: str, path: str, headers: Mapping[str, str], body: bytes,
                           now: datetime) -> Actor:
    signer = await _signer(deps, key_id, now, refresh=False)
    try:
        _check(signer, deps, path, headers, body, now)
        return signer
    except signatures.SignatureError as first_failure:
        # Our own keys never rotate behind our back; a remote one is refetched at most every ten minutes.
        if signer.domain == "" or (signer.fetched_at is not None and now - signer.fetched_at < KEY_REFETCH_INTERVAL):
            raise Refused(401, f"signature check failed: {first_failure.reason}") from None
    signer = await _signer(deps, key_id, now, refresh=True)  # the key may have rotated
    try:
        _check(signer, deps, path, headers, body, now)
    except signatures.SignatureError as exc:
        raise Refused(401, f"signature check failed: {exc.reason}") from None
    return signer


def _check(signer: Actor, deps: InboxDeps, path: str, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
    pem = signer.public_key_pem or ""
    if signatures.signature_scheme(headers) == "rfc9421":
        signatures_rfc9421.verify_rfc9421("POST", f"{deps.urls.base_url}{path}", headers, body, pem, now)
    else:
        signatures.verify_request("POST", path, headers, body, pem, now, expected_host=deps.urls.domain)


async def _signer(deps: InboxDeps, key_id: str, now: datetime, *, refresh: bool) -> Actor:
    try:
        return await remote.actor_for_key(deps, key_id, now=now, refresh=refresh)
    except Gone as exc:
        raise _KeyGone(401, f"the signing key {key_id} is gone: {exc}") from None
    except (PeerUnavailable, MalformedObject, OriginMismatch, NotAllowed, FetchNotAllowed) as exc:
        raise Refused(401, f"the signing key {key_id} could not be verified: {exc}") from None
