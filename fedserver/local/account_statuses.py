"""One account's statuses as a profile shows them: newest first, only what the viewer may see.

Mastodon's AccountStatusesFilter is the model: anonymous viewers see public and unlisted posts,
everyone else what visibility.visible_to allows (a block either way leaves nothing); a boost
shows only when its original is visible too. Muted accounts still show on their own profile.
"""
from __future__ import annotations

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Pin
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import Status, StatusTag, Tag
from fedserver.local.timelines import Paging, newest_first, paged
from fedserver.local.visibility import visible_to


async def of_account(session: AsyncSession, author: Actor, viewer: Actor | None, page: Paging, *,
                     pinned: bool = False, exclude_replies: bool = False, exclude_reblogs: bool = False,
                     only_media: bool = False, tagged: str | None = None) -> list[Status]:
    """A page of the author's statuses and boosts that the viewer (None: anonymous) may see."""
    viewer_id = viewer.id if viewer is not None else None
    original = aliased(Status)
    original_visible = exists().where(original.id == Status.reblog_of_id, visible_to(viewer_id, original))
    query = select(Status).where(Status.author_id == author.id, visible_to(viewer_id),
                                 or_(Status.reblog_of_id.is_(None), original_visible))
    if pinned:
        query = query.where(exists().where(Pin.actor_id == author.id, Pin.status_id == Status.id))
    if exclude_replies:  # answers within one's own threads stay, as on Mastodon
        parent = aliased(Status)
        own_thread = exists().where(parent.id == Status.in_reply_to_id, parent.author_id == author.id)
        query = query.where(or_(Status.in_reply_to_ap_id.is_(None), own_thread))
    if exclude_reblogs:
        query = query.where(Status.reblog_of_id.is_(None))
    if only_media:
        query = query.where(exists().where(MediaAttachment.status_id == Status.id))
    if tagged:
        query = query.where(exists().where(and_(StatusTag.status_id == Status.id, Tag.id == StatusTag.tag_id,
                                                Tag.name == tagged.lstrip("#").lower())))
    rows = list((await session.scalars(paged(query, Status.id, page))).all())
    return newest_first(rows, page)
