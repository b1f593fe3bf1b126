"""Delivery: one activity body on its way to one inbox; rows live until sent, gone or given up.

The queue policy lives here in one place: claim_due (with a lease), outcome_of (what an answer
means), next_attempt (backoff), record (the result of one attempt), the per-origin breaker and
prune_finished. For finished rows (sent, gone, failed) next_attempt_at holds the moment they
finished, which is what gone_inboxes and prune_finished look at.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from fedserver.db import Base, utcnow
from fedserver.ids import new_id
from fedserver.outbox.published import PublishedActivity

PENDING, SENT, GONE, FAILED = "pending", "sent", "gone", "failed"
FINISHED = (SENT, GONE, FAILED)

FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=12)
MAX_ATTEMPTS = 15
# A peer may ask us to wait, but not to park a delivery for longer than one day per attempt.
MAX_RETRY_AFTER = timedelta(days=1)
# After this many failures in a row of one delivery, its origin's other deliveries wait with it.
BREAKER_THRESHOLD = 3


class Delivery(Base):
    """Queued in the same transaction as the change that caused it (STYLE.md, rule 3)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("activity_id", "inbox_url"),
        Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    activity_id: Mapped[int] = mapped_column(ForeignKey("published_activities.id", ondelete="CASCADE"))
    sender_ap_id: Mapped[str] = mapped_column(String(2048))
    inbox_url: Mapped[str] = mapped_column(String(2048))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """Everything one send needs, loaded while claiming so that nothing loads lazily later."""

    id: int
    activity_ap_id: str
    sender_ap_id: str
    inbox_url: str
    body: bytes
    attempts: int


OutcomeKind = Literal["sent", "retry", "gone", "give_up"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to, with a reason a person can read."""

    kind: OutcomeKind
    reason: str
    retry_after: timedelta | None = None

    @classmethod
    def sent(cls, reason: str = "") -> Outcome:
        return cls("sent", reason)

    @classmethod
    def retry(cls, reason: str, retry_after: timedelta | None = None) -> Outcome:
        return cls("retry", reason, retry_after)

    @classmethod
    def gone(cls, reason: str) -> Outcome:
        return cls("gone", reason)

    @classmethod
    def give_up(cls, reason: str) -> Outcome:
        return cls("give_up", reason)


def _due(delivery: Any, now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (delivery.state == PENDING, delivery.next_attempt_at <= now,
            or_(delivery.lease_until.is_(None), delivery.lease_until < now))


async def claim_due(session: AsyncSession, *, now: datetime, lease: timedelta,
                    limit: int = 1) -> list[ClaimedDelivery]:
    """Lease up to `limit` due deliveries so that no other worker sends them until the lease ends."""
    candidate = aliased(Delivery)
    due_ids = (select(candidate.id).where(*_due(candidate, now))
               .order_by(candidate.next_attempt_at, candidate.id).limit(limit)
               .with_for_update(skip_locked=True))
    if session.get_bind().dialect.name == "postgresql":
        # Lock first, in a statement of its own: inside `UPDATE ... WHERE id IN (subquery)` the
        # planner may rescan a LIMIT ... SKIP LOCKED subquery and claim more than `limit` rows.
        chosen: Any = list((await session.scalars(due_ids)).all())
        if not chosen:
            return []
    else:
        # SQLite drops FOR UPDATE; it has one writer, and this UPDATE takes the write lock before
        # it reads, evaluating the subquery once. The outer WHERE repeats the due test anyway.
        chosen = due_ids
    claim = (update(Delivery).where(Delivery.id.in_(chosen), *_due(Delivery, now))
             .values(lease_until=now + lease)
             .returning(Delivery.id, Delivery.activity_id, Delivery.sender_ap_id,
                        Delivery.inbox_url, Delivery.attempts)
             .execution_options(synchronize_session=False))
    rows = (await session.execute(claim)).all()
    if not rows:
        return []
    activities = {row.id: row for row in (await session.execute(
        select(PublishedActivity.id, PublishedActivity.ap_id, PublishedActivity.body)
        .where(PublishedActivity.id.in_({row.activity_id for row in rows})))).all()}
    return [ClaimedDelivery(id=row.id, activity_ap_id=activities[row.activity_id].ap_id,
                            sender_ap_id=row.sender_ap_id, inbox_url=row.inbox_url,
                            body=activities[row.activity_id].body.encode("utf-8"), attempts=row.attempts)
            for row in sorted(rows, key=lambda row: row.id) if row.activity_id in activities]


def outcome_of(status_code: int, retry_after_header: str | None, now: datetime) -> Outcome:
    """The whole answer policy: 2xx sent, 410 gone, 408/429/5xx retry (honouring Retry-After), other 4xx give up."""
    reason = f"{status_code} from inbox"
    if 200 <= status_code < 300:  # Mastodon answers 202 Accepted
        return Outcome.sent(reason)
    if status_code == 410:
        return Outcome.gone(reason)
    if status_code in (408, 429) or status_code >= 500:
        return Outcome.retry(reason, parse_retry_after(retry_after_header, now))
    if 400 <= status_code < 500:
        return Outcome.give_up(reason)
    # 1xx and 3xx are not answers an inbox gives (we never follow redirects for a POST); like
    # Mastodon's DeliveryWorker, treat them as a passing misconfiguration and try again later.
    return Outcome.retry(reason)


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A Retry-After header (delay-seconds or HTTP-date, RFC 9110 section 10.2.3) as a delay; None if unusable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        delay = timedelta(seconds=min(int(text), int(MAX_RETRY_AFTER.total_seconds())))
    else:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if moment.tzinfo is None:  # an HTTP-date is always GMT
            moment = moment.replace(tzinfo=now.tzinfo)
        delay = moment - now
    return min(max(delay, timedelta(0)), MAX_RETRY_AFTER)


def next_attempt(attempts: int, now: datetime, retry_after: timedelta | None) -> datetime | None:
    """When to try again after `attempts` failed attempts; None once MAX_ATTEMPTS are used up.

    The delay doubles from 30 s and stops growing at 12 h; each is stretched by a random 0-25 %
    so that deliveries queued together do not retry together. A Retry-After that asks for longer
    wins (up to one day). Base delays, and the time since the first attempt:

    ======== ========= =================
    failures next try  since first try
    ======== ========= =================
    1        30 s      30 s
    2        1 min     1.5 min
    3        2 min     3.5 min
    4        4 min     7.5 min
    5        8 min     15.5 min
    6        16 min    31.5 min
    7        32 min    1 h 04
    8        64 min    2 h 08
    9        2 h 08    4 h 16
    10       4 h 16    8 h 32
    11       8 h 32    17 h 04
    12       12 h      29 h 04
    13       12 h      41 h 04
    14       12 h      53 h 04 (2.2 days)
    15       --        given up: state failed
    ======== ========= =================
    """
    if attempts >= MAX_ATTEMPTS:
        return None
    base = min(FIRST_DELAY * (1 << min(max(attempts - 1, 0), 20)), MAX_DELAY)
    delay = base * random.uniform(1.0, 1.25)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return now + delay


def _settle(outcome: Outcome, attempts: int, now: datetime) -> tuple[str, datetime, str]:
    """The row's new state, next_attempt_at and last_error for one outcome."""
    if outcome.kind == "sent":
        return SENT, now, ""
    if outcome.kind == "gone":
        return GONE, now, outcome.reason
    if outcome.kind == "give_up":
        return FAILED, now, outcome.reason
    retry_at = next_attempt(attempts, now, outcome.retry_after)
    if retry_at is None:
        return FAILED, now, f"gave up after {attempts} attempts; last: {outcome.reason}"
    return PENDING, retry_at, outcome.reason


async def record(session: AsyncSession, delivery_id: int, outcome: Outcome, *, now: datetime) -> str | None:
    """Write one attempt's result and return the row's state (None if the row was deleted meanwhile)."""
    # FOR UPDATE (PostgreSQL) serialises two workers recording the same row after a lease ran out.
    current = (await session.execute(
        select(Delivery.state, Delivery.attempts, Delivery.inbox_url)
        .where(Delivery.id == delivery_id).with_for_update())).first()
    if current is None:  # its activity was deleted (ON DELETE CASCADE): nothing left to record
        return None
    if current.state != PENDING:  # another worker finished it after our lease ran out
        return str(current.state)
    attempts = current.attempts + 1
    state, at, error = _settle(outcome, attempts, now)
    await session.execute(
        update(Delivery).where(Delivery.id == delivery_id)
        .values(state=state, attempts=attempts, next_attempt_at=at, last_error=error[:2000], lease_until=None)
        .execution_options(synchronize_session=False))
    if state == GONE:
        await _close_inbox(session, current.inbox_url, outcome.reason, now)
    elif state == PENDING and attempts >= BREAKER_THRESHOLD:
        await _postpone_origin(session, current.inbox_url, at, now)
    return state


def _not_leased(now: datetime) -> ColumnElement[bool]:
    return or_(Delivery.lease_until.is_(None), Delivery.lease_until < now)


async def _close_inbox(session: AsyncSession, inbox_url: str, reason: str, now: datetime) -> None:
    """An inbox that answered 410 gets nothing more: its other waiting deliveries are gone too."""
    await session.execute(
        update(Delivery).where(Delivery.inbox_url == inbox_url, Delivery.state == PENDING, _not_leased(now))
        .values(state=GONE, next_attempt_at=now, last_error=reason, lease_until=None)
        .execution_options(synchronize_session=False))


def origin_of(url: str) -> str:
    """Scheme, host and port of a URL, as the prefix `https://host:port/` (DESIGN.md: an origin)."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}/"


async def _postpone_origin(session: AsyncSession, inbox_url: str, until: datetime, now: datetime) -> None:
    """The breaker: a peer that keeps failing is probed by one delivery while the others wait for it."""
    # Postponing does not count as an attempt, so waiting deliveries do not use up their budget.
    await session.execute(
        update(Delivery).where(Delivery.inbox_url.startswith(origin_of(inbox_url), autoescape=True),
                               Delivery.state == PENDING, Delivery.next_attempt_at < until, _not_leased(now))
        .values(next_attempt_at=until)
        .execution_options(synchronize_session=False))


async def release(session: AsyncSession, delivery_id: int) -> None:
    """Give a claimed row back unattempted (its origin just failed in the same batch): no attempt counted."""
    await session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.state == PENDING)
                          .values(lease_until=None))


async def gone_inboxes(session: AsyncSession, *, since: datetime) -> list[str]:
    """Inbox URLs that answered 410 Gone at or after `since`, for local/ to drop those followers."""
    query = (select(Delivery.inbox_url).distinct()
             .where(Delivery.state == GONE, Delivery.next_attempt_at >= since).order_by(Delivery.inbox_url))
    return list((await session.scalars(query)).all())


async def prune_finished(session: AsyncSession, *, older_than: datetime) -> int:
    """Delete sent, gone and failed rows that finished before `older_than` (privacy: nothing lingers)."""
    result = await session.execute(
        delete(Delivery).where(Delivery.state.in_(FINISHED), Delivery.next_attempt_at < older_than)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def inboxes_of_sender(session: AsyncSession, sender_ap_id: str, *, pending_only: bool = False) -> list[str]:
    """The inboxes that deliveries of one sender went (or, pending_only, still go) to, as far as rows remain."""
    query = select(Delivery.inbox_url).distinct().where(Delivery.sender_ap_id == sender_ap_id)
    if pending_only:
        query = query.where(Delivery.state == PENDING)
    return list((await session.scalars(query.order_by(Delivery.inbox_url))).all())
