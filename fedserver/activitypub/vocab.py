"""ActivityStreams vocabulary: type names, the Public collection, media types and namespaces.

Type names come from the Activity Vocabulary (https://www.w3.org/TR/activitystreams-vocabulary/);
the extension namespaces are the ones Mastodon, Lemmy and Pleroma put in their contexts
(tests/fixtures/mastodon/actor_person.json, tests/fixtures/lemmy/group.json).
"""
from __future__ import annotations

from typing import Final

AS_CONTEXT: Final = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT: Final = "https://w3id.org/security/v1"
AS_NAMESPACE: Final = "https://www.w3.org/ns/activitystreams#"

# The special collection meaning "everyone" (ActivityPub 5.6). Peers also send the compact
# forms "as:Public" and "Public", which expand to the same IRI under the AS2 context.
PUBLIC: Final = "https://www.w3.org/ns/activitystreams#Public"
_PUBLIC_SPELLINGS: Final = frozenset({PUBLIC, "as:Public", "Public"})

# Media types (ActivityPub 3.2; WebFinger RFC 7033 section 10.2).
ACTIVITY_JSON: Final = "application/activity+json"
LD_JSON_AS2: Final = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD_JSON: Final = "application/jrd+json"

# Extension namespaces (Mastodon's toot: and ostatus:, schema.org as Mastodon spells it, Lemmy).
TOOT: Final = "http://joinmastodon.org/ns#"
OSTATUS: Final = "http://ostatus.org#"
SCHEMA: Final = "http://schema.org#"
LEMMY: Final = "https://join-lemmy.org/ns#"

# Actor types.
PERSON: Final = "Person"
GROUP: Final = "Group"
ORGANIZATION: Final = "Organization"
SERVICE: Final = "Service"
APPLICATION: Final = "Application"

# Object types.
NOTE: Final = "Note"
ARTICLE: Final = "Article"
PAGE: Final = "Page"
QUESTION: Final = "Question"
EVENT: Final = "Event"
VIDEO: Final = "Video"
AUDIO: Final = "Audio"
IMAGE: Final = "Image"
DOCUMENT: Final = "Document"
LINK: Final = "Link"
PLACE: Final = "Place"
TOMBSTONE: Final = "Tombstone"
MENTION: Final = "Mention"
HASHTAG: Final = "Hashtag"  # as:Hashtag, an extension Mastodon defines inline
PROPERTY_VALUE: Final = "PropertyValue"  # schema:PropertyValue, Mastodon's profile fields
COLLECTION: Final = "Collection"
COLLECTION_PAGE: Final = "CollectionPage"
ORDERED_COLLECTION: Final = "OrderedCollection"
ORDERED_COLLECTION_PAGE: Final = "OrderedCollectionPage"

# Activity types.
CREATE: Final = "Create"
UPDATE: Final = "Update"
DELETE: Final = "Delete"
FOLLOW: Final = "Follow"
ACCEPT: Final = "Accept"
REJECT: Final = "Reject"
UNDO: Final = "Undo"
LIKE: Final = "Like"
ANNOUNCE: Final = "Announce"
BLOCK: Final = "Block"
FLAG: Final = "Flag"
ADD: Final = "Add"
REMOVE: Final = "Remove"
MOVE: Final = "Move"
JOIN: Final = "Join"
LEAVE: Final = "Leave"

ACTOR_TYPES: Final = frozenset({PERSON, GROUP, ORGANIZATION, SERVICE, APPLICATION})
POST_TYPES: Final = frozenset({NOTE, ARTICLE, PAGE, QUESTION, EVENT, VIDEO, AUDIO, IMAGE})
COLLECTION_TYPES: Final = frozenset(
    {COLLECTION, COLLECTION_PAGE, ORDERED_COLLECTION, ORDERED_COLLECTION_PAGE}
)
ACTIVITY_TYPES: Final = frozenset(
    {CREATE, UPDATE, DELETE, FOLLOW, ACCEPT, REJECT, UNDO, LIKE, ANNOUNCE, BLOCK, FLAG,
     ADD, REMOVE, MOVE, JOIN, LEAVE}
)


def is_public(iri: object) -> bool:
    """True when the IRI names the Public collection in any spelling peers send."""
    return isinstance(iri, str) and iri in _PUBLIC_SPELLINGS
