"""Shared set-up for the statuses tests: people, uploads and the visibility cases every endpoint must honour."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from fedserver.local import accounts
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.notifications import Notification
from fedserver.local.models.statuses import Status
from tests.cities import City
from tests.unit.api.mastodon.social import Reader, follow

# Keys of Mastodon's Status entity (docs.joinmastodon.org/entities/Status); `text` only on delete.
STATUS_KEYS = {
    "id", "uri", "url", "account", "in_reply_to_id", "in_reply_to_account_id", "reblog", "content", "created_at",
    "edited_at", "emojis", "replies_count", "reblogs_count", "favourites_count", "reblogged", "favourited", "muted",
    "bookmarked", "pinned", "sensitive", "spoiler_text", "visibility", "media_attachments", "mentions", "tags",
    "card", "poll", "application", "language", "filtered",
}


@dataclass
class Audience:
    """alice posts; bob follows her; carla is an outsider; dora is mentioned in the direct post."""

    alice: Reader
    bob: Reader
    carla: Reader
    dora: Reader
    public: Status
    private: Status
    direct: Status


async def audience(city: City) -> Audience:
    for name in ("alice", "bob", "carla", "dora"):
        await city.create_account(name)
    await follow(city, "bob", "alice")
    public = await city.post("alice", "Öffentlich")
    private = await city.post("alice", "Nur für Folgende", visibility="private")
    direct = await city.post("alice", "@dora Nur für dich", visibility="direct")
    alice, bob, carla, dora = [await Reader.of(city, name) for name in ("alice", "bob", "carla", "dora")]
    return Audience(alice, bob, carla, dora, public=public, private=private, direct=direct)


async def upload(city: City, username: str, kind: str = "image") -> MediaAttachment:
    """An unattached upload row, as POST /api/v2/media leaves it."""
    async with city.site.sessions() as session, session.begin():
        owner = (await accounts.find_by_username(session, username)).actor
        item = MediaAttachment(owner_id=owner.id, kind=kind, content_type="image/png", file_path="aa/bb/x.png",
                               width=10, height=10)
        session.add(item)
    return item


async def notification_kinds(city: City, username: str) -> list[str]:
    async with city.site.sessions() as session:
        actor = (await accounts.find_by_username(session, username)).actor
        query = select(Notification.kind).where(Notification.recipient_id == actor.id).order_by(Notification.id)
        return list((await session.scalars(query)).all())
