"""Actor <-> JSON: what Mastodon 4.x serves for an account, and what other servers send us.

Shapes: tests/fixtures/{mastodon,pleroma,lemmy,gotosocial}/actor_*.json and tests/golden/actor.json.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from fedserver.activitypub import dates, extract, vocab
from fedserver.activitypub.errors import MalformedObject
from fedserver.activitypub.shapes import Actor, Image, PropertyValue, PublicKey

# The inline terms Mastodon's ActorSerializer puts after AS2 and security v1.
_ACTOR_TERMS: dict[str, Any] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "toot": vocab.TOOT,
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "schema": vocab.SCHEMA,
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
}
# Lemmy's term for a group only moderators may post to (fixtures/lemmy/group.json).
_GROUP_TERMS: dict[str, Any] = {
    "lemmy": vocab.LEMMY,
    "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
}


def render_actor(actor: Actor) -> dict[str, Any]:
    """Write an actor document as Mastodon 4.x does; None values are left out, booleans kept."""
    is_group = actor.type == vocab.GROUP
    terms = {**_ACTOR_TERMS, **(_GROUP_TERMS if is_group else {})}
    doc: dict[str, Any] = {
        "@context": [vocab.AS_CONTEXT, vocab.SECURITY_CONTEXT, terms],
        "id": actor.ap_id, "type": actor.type,
        "following": actor.following, "followers": actor.followers,
        "inbox": actor.inbox, "outbox": actor.outbox, "featured": actor.featured,
        "preferredUsername": actor.preferred_username, "name": actor.name,
        "summary": actor.summary_html, "url": actor.url,
        "manuallyApprovesFollowers": actor.manually_approves_followers,
        "discoverable": actor.discoverable, "indexable": actor.indexable,
        "published": dates.format(actor.published) if actor.published else None,
        "publicKey": _render_key(actor.public_key) if actor.public_key else None,
        "attachment": [
            {"type": vocab.PROPERTY_VALUE, "name": f.name, "value": f.value_html}
            for f in actor.fields
        ],
        "endpoints": {"sharedInbox": actor.shared_inbox} if actor.shared_inbox else None,
        "icon": _render_image(actor.icon), "image": _render_image(actor.image),
    }
    if is_group:
        doc["postingRestrictedToMods"] = actor.posting_restricted_to_mods
    return {key: value for key, value in doc.items() if value is not None}


def parse_actor(doc: Mapping[str, Any]) -> Actor:
    """Read an actor from any of the servers we federate with; raises MalformedObject."""
    ap_id = extract.require_id(doc)
    actor_type = extract.type_of(doc)
    if actor_type is None:
        raise MalformedObject("type")
    if actor_type not in vocab.ACTOR_TYPES:
        raise MalformedObject("type", f"{actor_type!r} is not an actor type")
    inbox = extract.id_of(doc.get("inbox"))
    if inbox is None:
        raise MalformedObject("inbox")
    endpoints = doc.get("endpoints")
    shared_inbox = extract.id_of(endpoints.get("sharedInbox")) if isinstance(
        endpoints, Mapping) else None
    return Actor(
        ap_id=ap_id, type=actor_type, preferred_username=_username(doc, ap_id), inbox=inbox,
        outbox=extract.id_of(doc.get("outbox")),
        followers=extract.id_of(doc.get("followers")),
        following=extract.id_of(doc.get("following")),
        featured=extract.id_of(doc.get("featured")),
        # Misskey also puts sharedInbox on the actor itself (ApRendererService.renderPerson).
        shared_inbox=shared_inbox or extract.id_of(doc.get("sharedInbox")),
        name=_string(doc, "name"), summary_html=_string(doc, "summary"),
        url=extract.first_href(doc.get("url")),
        icon=_parse_image(doc.get("icon")), image=_parse_image(doc.get("image")),
        public_key=_parse_key(doc.get("publicKey"), ap_id),
        manually_approves_followers=doc.get("manuallyApprovesFollowers") is True,
        # Mastodon reads a missing discoverable/indexable as false (ActivityPub::ProcessAccountService).
        discoverable=doc.get("discoverable") is True, indexable=doc.get("indexable") is True,
        published=dates.parse(doc, "published"),
        fields=_parse_fields(doc.get("attachment")),
        posting_restricted_to_mods=doc.get("postingRestrictedToMods") is True,
    )


def _username(doc: Mapping[str, Any], ap_id: str) -> str:
    """preferredUsername, or a stand-in for actors that have none.

    Some actors come without preferredUsername (instance and relay actors of Lemmy and
    others); we then use the last path segment of the id, or its host for a bare origin.
    """
    username = doc.get("preferredUsername")
    if isinstance(username, str) and username.strip():
        return username.strip()
    parts = urlsplit(ap_id)
    segments = [s for s in parts.path.split("/") if s]
    fallback = segments[-1].lstrip("@") if segments else (parts.hostname or "")
    if not fallback:
        raise MalformedObject("preferredUsername")
    return fallback


def _string(doc: Mapping[str, Any], key: str) -> str | None:
    value = doc.get(key)
    return value if isinstance(value, str) else extract.text_and_language(doc, key)[0]


def _render_key(key: PublicKey) -> dict[str, str]:
    return {"id": key.id, "owner": key.owner, "publicKeyPem": key.pem}


def _parse_key(value: Any, ap_id: str) -> PublicKey | None:
    # publicKey may be a list of keys (several servers); prefer the one this actor owns.
    keys = [k for k in extract.as_list(value) if isinstance(k, Mapping)]
    keys.sort(key=lambda k: k.get("owner") != ap_id)
    for key in keys:
        key_id, pem = key.get("id"), key.get("publicKeyPem")
        if isinstance(key_id, str) and isinstance(pem, str):
            owner = extract.id_of(key.get("owner")) or ap_id
            return PublicKey(id=key_id, owner=owner, pem=pem)
    return None


def _render_image(image: Image | None) -> dict[str, str] | None:
    if image is None:
        return None
    rendered = {"type": vocab.IMAGE, "mediaType": image.media_type, "url": image.url}
    return {key: value for key, value in rendered.items() if value is not None}


def _parse_image(value: Any) -> Image | None:
    # icon may be a string, an Image, or a list of them (Activity Vocabulary "icon").
    item = extract.first(value)
    if isinstance(item, str):
        return Image(url=item)
    if not isinstance(item, Mapping):
        return None
    url = extract.first_href(item.get("url", item.get("href")))
    if url is None:
        return None
    media_type = item.get("mediaType")
    return Image(url=url, media_type=media_type if isinstance(media_type, str) else None)


def _parse_fields(value: Any) -> tuple[PropertyValue, ...]:
    fields = []
    for item in extract.as_list(value):
        if isinstance(item, Mapping) and extract.type_of(item) == vocab.PROPERTY_VALUE:
            name, field_value = item.get("name"), item.get("value")
            if isinstance(name, str) and isinstance(field_value, str):
                fields.append(PropertyValue(name=name, value_html=field_value))
    return tuple(fields)
