"""Scheduled statuses: a post kept back until its time, then published by statuses.create like any other
(Mastodon's ScheduledStatus and PublishScheduledStatusWorker)."""
from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import polls, preferences, statuses, visibility
from fedserver.local.errors import Invalid, LocalError, NotFound
from fedserver.local.models.accounts import Account
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.scheduling import ScheduledStatus, ScheduledStatusMedia
from fedserver.local.models.statuses import Status
from fedserver.local.timelines import Paging, newest_first, paged
from fedserver.local.urls import LocalUrls

log = logging.getLogger(__name__)

MINIMUM_OFFSET = timedelta(minutes=5)  # Mastodon's ScheduledStatus::MINIMUM_OFFSET
TOTAL_LIMIT = 300  # Mastodon's ScheduledStatus::TOTAL_LIMIT
DAILY_LIMIT = 25  # Mastodon's ScheduledStatus::DAILY_LIMIT, per UTC day of scheduled_at
PUBLISH_BATCH = 100  # at most this many per minute round; the rest wait for the next one


@dataclass(frozen=True)
class Draft:
    """What POST /api/v1/statuses was asked to post, kept as JSON until it is due."""

    text: str
    visibility: str
    spoiler_text: str = ""
    is_sensitive: bool = False
    language: str | None = None
    in_reply_to_id: int | None = None
    poll: polls.PollDraft | None = None
    application_id: int | None = None

    def to_json(self) -> str:
        poll = None if self.poll is None else {"options": list(self.poll.options),
                                                "expires_in": self.poll.expires_in, "multiple": self.poll.multiple}
        return json.dumps({"text": self.text, "visibility": self.visibility, "spoiler_text": self.spoiler_text,
                           "sensitive": self.is_sensitive, "language": self.language,
                           "in_reply_to_id": self.in_reply_to_id, "poll": poll,
                           "application_id": self.application_id})

    @classmethod
    def from_json(cls, text: str) -> Draft:
        data: dict[str, Any] = json.loads(text)
        poll = data.get("poll")
        return cls(text=data["text"], visibility=data["visibility"], spoiler_text=data.get("spoiler_text") or "",
                   is_sensitive=bool(data.get("sensitive")), language=data.get("language"),
                   in_reply_to_id=data.get("in_reply_to_id"), application_id=data.get("application_id"),
                   poll=polls.PollDraft(tuple(poll["options"]), int(poll["expires_in"]), bool(poll["multiple"]))
                   if poll else None)


def parse_time(raw: str) -> datetime:
    """scheduled_at as ISO 8601; a time without a zone is read as UTC (as Rails reads it for Mastodon)."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid("scheduled_at", "ERR_INVALID",
                      "scheduled_at must be a date and time like 2026-12-24T18:00:00Z") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


async def schedule(session: AsyncSession, account: Account, draft: Draft, *, scheduled_at: datetime,
                   media: Sequence[MediaAttachment], in_reply_to: Status | None, now: datetime) -> ScheduledStatus:
    """Keep a post back until scheduled_at (at least five minutes ahead); it is checked now as it would be
    when posted, so that a refusal reaches the poster and not the minute job. Raises Invalid or NotFound."""
    await _check_time(session, account.id, scheduled_at, now=now)
    if (await session.scalar(select(func.count()).select_from(ScheduledStatus).where(
            ScheduledStatus.account_id == account.id)) or 0) >= TOTAL_LIMIT:
        raise Invalid("scheduled_at", "ERR_LIMIT", f"you have reached the limit of {TOTAL_LIMIT} scheduled posts")
    held = await _held(session, [item.id for item in media])
    if held:
        raise Invalid("media_ids", "ERR_TAKEN", f"Media {', '.join(map(str, held))} already belong to another "
                      "scheduled post")
    await statuses.check_draft(session, account.actor, draft.text, visibility=draft.visibility,
                               spoiler_text=draft.spoiler_text, in_reply_to=in_reply_to, media=bool(media),
                               poll=draft.poll)
    row = ScheduledStatus(account_id=account.id, scheduled_at=scheduled_at, params=draft.to_json(), created_at=now)
    session.add(row)
    await session.flush()
    session.add_all(ScheduledStatusMedia(scheduled_status_id=row.id, media_id=item.id, position=position)
                    for position, item in enumerate(media))
    await session.flush()
    return row


async def _check_time(session: AsyncSession, account_id: int, scheduled_at: datetime, *, now: datetime,
                      moving: int | None = None) -> None:
    if scheduled_at < now + MINIMUM_OFFSET:
        raise Invalid("scheduled_at", "ERR_TOO_SOON", "scheduled_at must be at least 5 minutes in the future")
    day = scheduled_at.replace(hour=0, minute=0, second=0, microsecond=0)
    same_day = select(func.count()).select_from(ScheduledStatus).where(
        ScheduledStatus.account_id == account_id, ScheduledStatus.scheduled_at >= day,
        ScheduledStatus.scheduled_at < day + timedelta(days=1))
    if moving is not None:
        same_day = same_day.where(ScheduledStatus.id != moving)
    if (await session.scalar(same_day) or 0) >= DAILY_LIMIT:
        raise Invalid("scheduled_at", "ERR_LIMIT",
                      f"you have reached the limit of {DAILY_LIMIT} scheduled posts for that day")


async def _held(session: AsyncSession, media_ids: Sequence[int]) -> list[int]:
    if not media_ids:
        return []
    return list((await session.scalars(select(ScheduledStatusMedia.media_id).where(
        ScheduledStatusMedia.media_id.in_(list(media_ids))))).all())


async def find_own(session: AsyncSession, account_id: int, scheduled_id: int) -> ScheduledStatus:
    """One of the account's scheduled statuses; anyone else's is not found."""
    found = await session.scalar(select(ScheduledStatus).where(ScheduledStatus.id == scheduled_id,
                                                               ScheduledStatus.account_id == account_id))
    if found is None:
        raise NotFound("Record not found")
    return found


async def page(session: AsyncSession, account_id: int, paging: Paging) -> list[ScheduledStatus]:
    """A page of the account's scheduled statuses, newest first by id (as Mastodon pages them)."""
    query = select(ScheduledStatus).where(ScheduledStatus.account_id == account_id)
    return newest_first(list((await session.scalars(paged(query, ScheduledStatus.id, paging))).all()), paging)


async def media_of(session: AsyncSession, scheduled_ids: Sequence[int]) -> dict[int, list[MediaAttachment]]:
    """The media each scheduled status holds, in the order they were given; one query."""
    held: dict[int, list[MediaAttachment]] = {sid: [] for sid in scheduled_ids}
    if scheduled_ids:
        rows = await session.execute(
            select(ScheduledStatusMedia.scheduled_status_id, MediaAttachment)
            .join(MediaAttachment, MediaAttachment.id == ScheduledStatusMedia.media_id)
            .where(ScheduledStatusMedia.scheduled_status_id.in_(list(scheduled_ids)))
            .order_by(ScheduledStatusMedia.position))
        for scheduled_id, item in rows.all():
            held[scheduled_id].append(item)
    return held


async def reschedule(session: AsyncSession, row: ScheduledStatus, scheduled_at: datetime, *,
                     now: datetime) -> ScheduledStatus:
    """Move a scheduled status to another time, under the same rules as scheduling it."""
    await _check_time(session, row.account_id, scheduled_at, now=now, moving=row.id)
    row.scheduled_at = scheduled_at
    await session.flush()
    return row


async def cancel(session: AsyncSession, row: ScheduledStatus) -> None:
    """Drop a scheduled status; its media become ordinary unattached uploads again."""
    await session.execute(delete(ScheduledStatus).where(ScheduledStatus.id == row.id))


async def publish_next_due(session: AsyncSession, urls: LocalUrls, *, now: datetime) -> bool:
    """Post the scheduled status that is due first through statuses.create (so it federates and notifies);
    False when none is due. One that can no longer be posted (its text and media gone) is dropped."""
    row = await session.scalar(select(ScheduledStatus).where(ScheduledStatus.scheduled_at <= now)
                               .order_by(ScheduledStatus.scheduled_at, ScheduledStatus.id).limit(1))
    if row is None:
        return False
    scheduled_id, account_id, draft = row.id, row.account_id, Draft.from_json(row.params)
    media_ids = [item.id for item in (await media_of(session, [row.id]))[row.id]]
    # Deleting first claims the row: a second worker's DELETE finds nothing and posts nothing.
    claimed = await session.execute(delete(ScheduledStatus).where(ScheduledStatus.id == scheduled_id)
                                    .execution_options(synchronize_session=False))
    session.expunge(row)
    account = await session.get(Account, account_id)
    if not claimed.rowcount or account is None or account.is_suspended:  # type: ignore[attr-defined]
        return True
    try:
        async with session.begin_nested():
            await _publish(session, urls, account, draft, media_ids, now=now)
    except LocalError as exc:
        log.warning("scheduled status %s of account %s dropped: %s", scheduled_id, account_id, exc)
    return True


async def _publish(session: AsyncSession, urls: LocalUrls, account: Account, draft: Draft, media_ids: list[int],
                   *, now: datetime) -> Status:
    author = account.actor
    found = {item.id: item for item in (await session.scalars(select(MediaAttachment).where(
        MediaAttachment.id.in_(media_ids), MediaAttachment.owner_id == author.id,
        MediaAttachment.status_id.is_(None)))).all()}
    parent = await session.get(Status, draft.in_reply_to_id) if draft.in_reply_to_id is not None else None
    # A parent deleted (or hidden from the author) meanwhile: the post still goes out, as a post of its own.
    if parent is not None and not await visibility.can_see(session, author, parent):
        parent = None
    return await statuses.create(
        session, urls, author, draft.text, visibility=draft.visibility, spoiler_text=draft.spoiler_text,
        is_sensitive=draft.is_sensitive, language=draft.language or preferences.posting_language(account),
        in_reply_to=parent,
        media=[found[media_id] for media_id in media_ids if media_id in found], poll=draft.poll, now=now)
