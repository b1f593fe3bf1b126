"""Domain blocks of one account: a whole server hidden from a resident (not the admin's instance block).

Mastodon's documented effect (docs: methods/domain_blocks): posts and notifications from the
server are hidden, followers from it are removed, and no new follows of its accounts are made.
Existing follows of the account itself stay.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import follows
from fedserver.local.errors import Invalid
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Follow, DomainBlock
from fedserver.local.urls import LocalUrls

# host or host:port; a host is a DNS name or an IPv4 address (what Actor.domain holds).
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?::\d{1,5})?$")


def normalise(urls: LocalUrls, domain: str) -> str:
    """A domain as we store it (lowercase, no scheme, no path); raises Invalid, also for our own."""
    text = domain.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].rstrip(".")
    if not text or len(text) > 255 or not _DOMAIN.match(text):
        raise Invalid("domain", "ERR_INVALID", f"{domain[:80]!r} is not a domain")
    if text == urls.domain.lower():
        raise Invalid("domain", "ERR_INVALID", "you cannot block your own server")
    return text


async def block(session: AsyncSession, urls: LocalUrls, actor: Actor, domain: str, *, now: datetime) -> DomainBlock:
    """Hide a server from an account; its followers there are removed (they get a Reject)."""
    domain = normalise(urls, domain)
    row = (await session.scalars(select(DomainBlock).where(DomainBlock.actor_id == actor.id,
                                                           DomainBlock.domain == domain))).first()
    if row is None:
        row = DomainBlock(actor_id=actor.id, domain=domain, severity="suspend", created_at=now)
        session.add(row)
        await session.flush()
    followers = (await session.scalars(
        select(Follow).join(Actor, Actor.id == Follow.follower_id)
        .where(Follow.target_id == actor.id, Actor.domain == domain))).all()
    for follow in followers:
        await follows.refuse(session, urls, follow, now=now)
    return row


async def unblock(session: AsyncSession, urls: LocalUrls, actor: Actor, domain: str) -> None:
    """Lift a domain block; nothing happens when there was none."""
    domain = normalise(urls, domain)
    await session.execute(delete(DomainBlock).where(DomainBlock.actor_id == actor.id, DomainBlock.domain == domain))


async def is_blocking(session: AsyncSession, actor_id: int, domain: str) -> bool:
    """Whether the account hides this server (False for our own accounts' domain '')."""
    if not domain:
        return False
    query = select(DomainBlock.id).where(DomainBlock.actor_id == actor_id, DomainBlock.domain == domain.lower())
    return await session.scalar(query) is not None


async def blocked_among(session: AsyncSession, actor_id: int, domains: set[str]) -> set[str]:
    """Which of these domains the account blocks."""
    wanted = {domain for domain in domains if domain}
    if not wanted:
        return set()
    query = select(DomainBlock.domain).where(DomainBlock.actor_id == actor_id, DomainBlock.domain.in_(wanted))
    return set((await session.scalars(query)).all())
