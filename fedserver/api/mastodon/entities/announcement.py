"""Announcement entity (docs.joinmastodon.org/entities/Announcement)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from fedserver.local.models.clients import Announcement


def mastodon_time(moment: datetime) -> str:
    """Mastodon's timestamps carry milliseconds: 2026-11-25T14:28:40.123Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def render_announcement(announcement: Announcement, *, read: bool | None = None) -> dict[str, Any]:
    """One announcement; `read` only for a signed-in reader. No reactions are kept, so none are shown."""
    entity: dict[str, Any] = {
        "id": str(announcement.id), "content": announcement.content_html,
        "starts_at": mastodon_time(announcement.starts_at) if announcement.starts_at else None,
        "ends_at": mastodon_time(announcement.ends_at) if announcement.ends_at else None,
        "all_day": False, "published": announcement.is_published,
        "published_at": mastodon_time(announcement.published_at), "updated_at": mastodon_time(announcement.updated_at),
        "mentions": [], "statuses": [], "tags": [], "emojis": [], "reactions": [],
    }
    if read is not None:
        entity["read"] = read
    return entity
