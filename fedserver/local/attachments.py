"""Attaching a poster's uploaded media to a status: ownership, the limit of four, and their order.

Uploading and processing files is media.py's job; this module only links finished uploads to posts.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.errors import Invalid
from fedserver.local.models.actors import Actor
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import Status

MAX_ATTACHMENTS = 4  # announced as configuration.statuses.max_media_attachments
MOVING = ("video", "gifv", "audio")


async def claim(session: AsyncSession, owner: Actor, media_ids: Sequence[int], *,
                status: Status | None = None) -> list[MediaAttachment]:
    """The owner's uploads in the order given: unattached, or already on `status` (an edit); raises Invalid."""
    if len(media_ids) > MAX_ATTACHMENTS:
        raise Invalid("media_ids", "ERR_TOO_LONG", f"Cannot attach more than {MAX_ATTACHMENTS} files")
    if not media_ids:
        return []
    free: ColumnElement[bool] = MediaAttachment.status_id.is_(None)
    if status is not None:
        free = free | (MediaAttachment.status_id == status.id)
    rows = {row.id: row for row in (await session.scalars(select(MediaAttachment).where(
        MediaAttachment.id.in_(list(media_ids)), MediaAttachment.owner_id == owner.id, free))).all()}
    missing = [str(media_id) for media_id in media_ids if media_id not in rows]
    if missing:
        raise Invalid("media_ids", "ERR_INVALID",
                      f"Media {', '.join(missing)} not found or already attached to another post")
    media = [rows[media_id] for media_id in dict.fromkeys(media_ids)]
    if len(media) > 1 and any(item.kind in MOVING for item in media):
        raise Invalid("media_ids", "ERR_INVALID", "Cannot attach a video to a post that already contains images")
    return media


async def attach(session: AsyncSession, status: Status, media: Sequence[MediaAttachment]) -> None:
    """Put exactly these uploads on the status, in this order; ones taken off become unattached again
    (and are removed after a day unless another post takes them)."""
    kept = [item.id for item in media]
    await session.execute(update(MediaAttachment).where(MediaAttachment.status_id == status.id,
                                                        MediaAttachment.id.not_in(kept)).values(status_id=None))
    for position, item in enumerate(media):
        item.status_id, item.position = status.id, position
    await session.flush()


async def detach_all(session: AsyncSession, status: Status) -> None:
    """Free a status's uploads before it is deleted, so that a redraft can attach them again (Mastodon)."""
    await session.execute(update(MediaAttachment).where(MediaAttachment.status_id == status.id)
                          .values(status_id=None))

