"""The city's announcements: official information shown in every app, which each reader may dismiss."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.errors import Invalid, NotAllowed, NotFound
from fedserver.local.models.accounts import ADMIN, MODERATOR, Account
from fedserver.local.models.clients import Announcement, AnnouncementRead
from fedserver.local.text import render_plain
from fedserver.local.urls import LocalUrls

MAX_CHARACTERS = 5000


async def current(session: AsyncSession, account_id: int, *, now: datetime,
                  with_dismissed: bool = False) -> list[tuple[Announcement, bool]]:
    """Published announcements that have not ended, oldest first, each with whether this reader dismissed it."""
    read = exists().where(AnnouncementRead.announcement_id == Announcement.id,
                          AnnouncementRead.account_id == account_id)
    query = (select(Announcement, read.label("read"))
             .where(Announcement.is_published.is_(True),
                    or_(Announcement.ends_at.is_(None), Announcement.ends_at > now))
             .order_by(Announcement.published_at, Announcement.id))
    if not with_dismissed:
        query = query.where(~read)
    return [(row[0], bool(row[1])) for row in (await session.execute(query)).all()]


async def dismiss(session: AsyncSession, announcement_id: int, account_id: int) -> None:
    """Mark an announcement as read by this reader; again is no error."""
    if await session.get(Announcement, announcement_id) is None:
        raise NotFound("Record not found")
    known = await session.scalar(select(AnnouncementRead.account_id).where(and_(
        AnnouncementRead.announcement_id == announcement_id, AnnouncementRead.account_id == account_id)))
    if known is None:
        session.add(AnnouncementRead(announcement_id=announcement_id, account_id=account_id))
        await session.flush()


async def publish(session: AsyncSession, urls: LocalUrls, author: Account, text: str, *, now: datetime,
                  starts_at: datetime | None = None, ends_at: datetime | None = None) -> Announcement:
    """Publish an announcement for everyone; only the city's admins and moderators may; raises Invalid."""
    if author.role not in (ADMIN, MODERATOR):
        raise NotAllowed("only the city's administrators and moderators publish announcements")
    if not text.strip():
        raise Invalid("text", "ERR_BLANK", "an announcement needs some text")
    if len(text) > MAX_CHARACTERS:
        raise Invalid("text", "ERR_TOO_LONG", f"an announcement has at most {MAX_CHARACTERS} characters")
    if starts_at and ends_at and ends_at <= starts_at:
        raise Invalid("ends_at", "ERR_INVALID", "an announcement must end after it starts")
    rendered = render_plain(text, lambda user, host: None, urls.tag)
    announcement = Announcement(content_html=rendered.html, starts_at=starts_at, ends_at=ends_at, is_published=True,
                                published_at=now, updated_at=now)
    session.add(announcement)
    await session.flush()
    return announcement
