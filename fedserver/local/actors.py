"""Remote actors: storing what peers tell us about their people and groups, and forgetting them."""
from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub.shapes import Actor as ActorShape
from fedserver.local.errors import NotAllowed, NotFound
from fedserver.local.models.actors import ACTOR_KINDS, Actor, ActorKey
from fedserver.local.models.interactions import DomainBlock


def origin_of(iri: str) -> str:
    """scheme://host[:port] of an IRI: two cities on one machine differ only by port (DESIGN.md)."""
    parts = urlsplit(iri)
    return f"{parts.scheme}://{parts.netloc}".lower()


def domain_of(iri: str) -> str:
    """host[:port] of an IRI, as we store it on remote actors."""
    return urlsplit(iri).netloc.lower()


async def find_by_ap_id(session: AsyncSession, ap_id: str) -> Actor | None:
    """Any actor, local or remote, by its IRI."""
    return (await session.scalars(select(Actor).where(Actor.ap_id == ap_id))).first()


async def find_by_id(session: AsyncSession, actor_id: int) -> Actor | None:
    return await session.get(Actor, actor_id)


async def get_by_ap_id(session: AsyncSession, ap_id: str) -> Actor:
    """Any actor by its IRI; raises NotFound."""
    actor = await find_by_ap_id(session, ap_id)
    if actor is None:
        raise NotFound(f"unknown actor {ap_id}")
    return actor


async def find_by_key_id(session: AsyncSession, key_id: str) -> Actor | None:
    """The actor that owns a public key id (keyId of an HTTP signature)."""
    return (await session.scalars(select(Actor).where(Actor.public_key_id == key_id))).first()


async def find_by_handle(session: AsyncSession, username: str, domain: str) -> Actor | None:
    """A remote actor by @username@domain, as we stored it."""
    query = select(Actor).where(Actor.username_key == username.lower(), Actor.domain == domain.lower())
    return (await session.scalars(query)).first()


async def is_domain_blocked(session: AsyncSession, domain: str) -> bool:
    """Whether the instance refuses everything from this server (an admin's domain block)."""
    query = select(DomainBlock.id).where(DomainBlock.actor_id.is_(None), DomainBlock.domain == domain.lower(),
                                         DomainBlock.severity == "suspend")
    return await session.scalar(query) is not None


async def store_remote(session: AsyncSession, shape: ActorShape, *, now: datetime) -> Actor:
    """Insert or refresh a remote actor from its document; refuses documents that claim a local IRI."""
    domain = domain_of(shape.ap_id)
    actor = await find_by_ap_id(session, shape.ap_id)
    if actor is not None and actor.domain == "":
        raise NotAllowed(f"{shape.ap_id} is one of our own actors")
    if await is_domain_blocked(session, domain):
        raise NotAllowed(f"{domain} is blocked by this instance")
    if actor is None:
        actor = Actor(ap_id=shape.ap_id, domain=domain, published_at=shape.published or now)
        session.add(actor)
    _apply(actor, shape, domain)
    actor.fetched_at = now
    actor.updated_at = now
    await session.flush()
    return actor


def _apply(actor: Actor, shape: ActorShape, domain: str) -> None:
    actor.kind = shape.type if shape.type in ACTOR_KINDS else "Person"
    actor.username = shape.preferred_username
    actor.username_key = shape.preferred_username.lower()
    actor.domain = domain
    actor.display_name = (shape.name or "")[:255]
    actor.summary_html = shape.summary_html or ""
    actor.url = shape.url or shape.ap_id
    actor.inbox_url = shape.inbox
    actor.shared_inbox_url = shape.shared_inbox
    actor.outbox_url = shape.outbox
    actor.followers_url = shape.followers
    actor.following_url = shape.following
    actor.featured_url = shape.featured
    actor.public_key_id = shape.public_key.id if shape.public_key else None
    actor.public_key_pem = shape.public_key.pem if shape.public_key else None
    actor.icon_url = shape.icon.url if shape.icon else None
    actor.image_url = shape.image.url if shape.image else None
    actor.fields_json = json.dumps([{"name": f.name, "value_html": f.value_html} for f in shape.fields])
    actor.manually_approves_followers = shape.manually_approves_followers
    actor.is_discoverable = shape.discoverable
    actor.is_indexable = shape.indexable


async def forget_remote(session: AsyncSession, actor: Actor) -> None:
    """Remove a remote actor and, through the foreign keys, everything of theirs we hold."""
    if actor.domain == "":
        raise NotAllowed("local actors are deleted through their account")
    await session.execute(delete(ActorKey).where(ActorKey.actor_id == actor.id))
    await session.execute(delete(Actor).where(Actor.id == actor.id))
