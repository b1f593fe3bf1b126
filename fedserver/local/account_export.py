"""Download my data: everything an account wrote and chose here, as one JSON document (GDPR Art. 20)."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.models.accounts import Account
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Bookmark, Follow, Like
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import Status
from fedserver.local.urls import LocalUrls

FORMAT = "fedserver-export/1"


async def export(session: AsyncSession, urls: LocalUrls, account: Account, *, now: datetime) -> dict[str, Any]:
    """The account's profile, posts (with media links), follows both ways, likes and bookmarks."""
    actor = account.actor
    return {
        "format": FORMAT, "exported_at": now.isoformat(),
        "account": {"username": actor.username, "ap_id": actor.ap_id, "email": account.email,
                    "display_name": actor.display_name, "bio_html": actor.summary_html,
                    "fields": json.loads(actor.fields_json or "[]"), "avatar": actor.icon_url,
                    "header": actor.image_url, "locked": actor.manually_approves_followers,
                    "language": account.locale, "created_at": account.created_at.isoformat()},
        "posts": await _posts(session, urls, actor.id),
        "following": await _ap_ids(session, select(Actor.ap_id).join(Follow, Follow.target_id == Actor.id)
                                   .where(Follow.follower_id == actor.id).order_by(Follow.id)),
        "followers": await _ap_ids(session, select(Actor.ap_id).join(Follow, Follow.follower_id == Actor.id)
                                   .where(Follow.target_id == actor.id).order_by(Follow.id)),
        "likes": await _ap_ids(session, select(Status.ap_id).join(Like, Like.status_id == Status.id)
                               .where(Like.actor_id == actor.id).order_by(Like.id)),
        "bookmarks": await _ap_ids(session, select(Status.ap_id).join(Bookmark, Bookmark.status_id == Status.id)
                                   .where(Bookmark.actor_id == actor.id).order_by(Bookmark.id)),
    }


async def _ap_ids(session: AsyncSession, query: Any) -> list[str]:
    return list((await session.scalars(query)).all())


async def _posts(session: AsyncSession, urls: LocalUrls, actor_id: int) -> list[dict[str, Any]]:
    rows = (await session.scalars(select(Status).where(Status.author_id == actor_id).order_by(Status.id))).all()
    media: dict[int, list[dict[str, str]]] = {}
    for item in (await session.scalars(select(MediaAttachment).where(
            MediaAttachment.status_id.in_([row.id for row in rows])).order_by(MediaAttachment.position))).all():
        if item.status_id is not None and item.file_path:
            media.setdefault(item.status_id, []).append({"url": urls.media(item.file_path),
                                                         "description": item.description})
    originals = dict((await session.execute(select(Status.id, Status.ap_id).where(
        Status.id.in_([row.reblog_of_id for row in rows if row.reblog_of_id is not None])))).all())
    return [{"id": str(row.id), "ap_id": row.ap_id, "published_at": row.published_at.isoformat(),
             "visibility": row.visibility, "text": row.source_text or "", "content_html": row.content_html,
             "content_warning": row.spoiler_text, "in_reply_to": row.in_reply_to_ap_id,
             "boost_of": originals.get(row.reblog_of_id) if row.reblog_of_id else None, "media": media.get(row.id, [])}
            for row in rows]
