"""Wire shapes: frozen dataclasses the converters read into and write from.

They carry ActivityPub facts only (IRIs, texts, times), never database ids, so that the wire
layer stays free of the database (DESIGN.md, Layout).
"""
from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class PublicKey:
    id: str  # <actor>#main-key
    owner: str
    pem: str


@dataclass(frozen=True)
class PropertyValue:
    """A profile field (Mastodon's schema:PropertyValue attachment)."""

    name: str
    value_html: str


@dataclass(frozen=True)
class Image:
    url: str
    media_type: str | None = None


@dataclass(frozen=True)
class Actor:
    ap_id: str
    type: str  # Person, Group, Organization, Service, Application
    preferred_username: str
    inbox: str
    outbox: str | None = None
    followers: str | None = None
    following: str | None = None
    featured: str | None = None
    shared_inbox: str | None = None
    name: str | None = None
    summary_html: str | None = None
    url: str | None = None
    icon: Image | None = None
    image: Image | None = None
    public_key: PublicKey | None = None
    manually_approves_followers: bool = False
    discoverable: bool = True
    indexable: bool = False
    published: datetime | None = None
    fields: tuple[PropertyValue, ...] = ()
    # Groups (FEP-1b12): who may post; Lemmy's postingRestrictedToMods.
    posting_restricted_to_mods: bool = False


@dataclass(frozen=True)
class Hashtag:
    name: str  # with the leading '#'
    href: str


@dataclass(frozen=True)
class Mention:
    name: str  # @user@domain
    href: str  # the actor IRI


@dataclass(frozen=True)
class Attachment:
    url: str
    media_type: str | None = None
    name: str | None = None  # alt text
    blurhash: str | None = None
    width: int | None = None
    height: int | None = None
    type: str = "Document"


@dataclass(frozen=True)
class Place:
    name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    ap_id: str | None = None


@dataclass(frozen=True)
class PollOption:
    title: str
    votes: int = 0


@dataclass(frozen=True)
class Poll:
    """The choices of a Question (oneOf: single choice, anyOf: several)."""

    options: tuple[PollOption, ...]
    multiple: bool = False
    end_time: datetime | None = None
    closed: datetime | None = None
    voters_count: int | None = None


@dataclass(frozen=True)
class Note:
    """A Note, Article, Page, Question or Event body as a post (type says which)."""

    ap_id: str
    attributed_to: str
    content_html: str
    published: datetime
    type: str = "Note"
    url: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    audience: str | None = None  # the group a post belongs to (FEP-1b12)
    in_reply_to: str | None = None
    conversation: str | None = None
    name: str | None = None  # title of an Article, Page or Event
    summary: str | None = None  # content warning
    sensitive: bool = False
    language: str | None = None
    updated: datetime | None = None
    tags: tuple[Hashtag, ...] = ()
    mentions: tuple[Mention, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    replies: str | None = None  # the replies collection IRI
    poll: Poll | None = None  # for a Question


@dataclass(frozen=True)
class Tombstone:
    ap_id: str
    former_type: str | None = None
    deleted: datetime | None = None


@dataclass(frozen=True)
class CollectionPage:
    """One page of an OrderedCollection, newest first."""

    ap_id: str
    part_of: str
    items: tuple[str | dict[str, object], ...]
    next: str | None = None
    prev: str | None = None


@dataclass(frozen=True)
class Collection:
    """An OrderedCollection summary: its size and the links to its first and last page."""

    ap_id: str
    total_items: int
    first: str | CollectionPage | None = None
    last: str | None = None


@dataclass(frozen=True)
class Activity:
    ap_id: str
    type: str
    actor: str
    object: str | dict[str, object]
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    published: datetime | None = None
    target: str | None = None
    audience: str | None = None
    # builtins.object: inside this class, `object` names the field above.
    extra: dict[str, builtins.object] = field(default_factory=dict)
