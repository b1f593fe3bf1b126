"""The delivery queue: claims with a lease, the answer policy, backoff, recording, the breaker, pruning."""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fedserver.activitypub.signatures import format_http_date
from fedserver.db import create_engine, migrate, session_factory, utcnow
from fedserver.outbox import deliveries
from fedserver.outbox.deliveries import Delivery, Outcome
from fedserver.outbox.publish import publish

Sessions = async_sessionmaker[AsyncSession]
ALICE = "https://moers.test/users/alice"
BOB_INBOX = "https://solingen.test/users/bob/inbox"
SOLINGEN_SHARED = "https://solingen.test/inbox"
KREFELD_SHARED = "https://krefeld.test/inbox"
LEASE = timedelta(minutes=5)
_numbers = itertools.count(1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """The same tests on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/t.db"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    await migrate(engine)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def now() -> datetime:
    # Later than the wall clock that publish() stamps on new rows, so they are due.
    return utcnow() + timedelta(minutes=1)


async def queue(sessions: Sessions, *inbox_urls: str, content: str = "Hallo") -> dict[str, int]:
    """Publish one Create to the inboxes; returns the delivery id per inbox."""
    number = next(_numbers)
    activity = {"id": f"{ALICE}/statuses/{number}/activity", "type": "Create", "actor": ALICE,
                "object": {"id": f"{ALICE}/statuses/{number}", "type": "Note", "content": content}}
    async with sessions() as session, session.begin():
        row = await publish(session, activity, inbox_urls=inbox_urls)
        found = await session.execute(select(Delivery.inbox_url, Delivery.id).where(Delivery.activity_id == row.id))
        return {inbox_url: id_ for inbox_url, id_ in found.all()}


async def load(sessions: Sessions, delivery_id: int) -> Delivery:
    async with sessions() as session:
        row = await session.get(Delivery, delivery_id)
    assert row is not None
    return row


async def claim(sessions: Sessions, now: datetime, limit: int = 1) -> list[deliveries.ClaimedDelivery]:
    async with sessions() as session, session.begin():
        return await deliveries.claim_due(session, now=now, lease=LEASE, limit=limit)


async def record(sessions: Sessions, delivery_id: int, outcome: Outcome, now: datetime) -> str | None:
    async with sessions() as session, session.begin():
        return await deliveries.record(session, delivery_id, outcome, now=now)


# --- the answer policy -------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "kind"), [
    (200, "sent"), (202, "sent"), (204, "sent"), (410, "gone"),
    (408, "retry"), (429, "retry"), (500, "retry"), (502, "retry"), (503, "retry"), (302, "retry"),
    (400, "give_up"), (401, "give_up"), (403, "give_up"), (404, "give_up"), (422, "give_up"),
])
def test_outcome_of_status_follows_the_policy(status: int, kind: str) -> None:
    outcome = deliveries.outcome_of(status, None, utcnow())
    assert outcome.kind == kind
    assert outcome.reason == f"{status} from inbox"


def test_retry_after_in_seconds_is_honoured() -> None:
    assert deliveries.outcome_of(429, "120", utcnow()).retry_after == timedelta(seconds=120)


def test_retry_after_as_http_date_is_honoured() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    outcome = deliveries.outcome_of(503, format_http_date(now + timedelta(minutes=10)), now)
    assert outcome.retry_after == timedelta(minutes=10)


@pytest.mark.parametrize(("header", "expected"), [
    (None, None), ("", None), ("soon", None), ("-5", None),
    ("Wed, 01 May 2024 11:00:00 GMT", timedelta(0)),     # already past: no extra wait
    ("99999999999999999999", deliveries.MAX_RETRY_AFTER),  # a peer cannot park us for years
])
def test_retry_after_that_is_unusable_or_extreme_is_bounded(header: str | None, expected: timedelta | None) -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    assert deliveries.parse_retry_after(header, now) == expected


# --- backoff -----------------------------------------------------------------------------------

def test_first_retry_comes_after_about_thirty_seconds(now: datetime) -> None:
    at = deliveries.next_attempt(1, now, None)
    assert at is not None and timedelta(seconds=30) <= at - now <= timedelta(seconds=37.5)


def test_backoff_grows_and_spans_at_least_two_days_before_giving_up(now: datetime) -> None:
    delays = []
    for attempts in range(1, deliveries.MAX_ATTEMPTS):
        at = deliveries.next_attempt(attempts, now, None)
        assert at is not None
        delays.append(at - now)
    assert sum(delays, timedelta(0)) >= timedelta(days=2)
    assert max(delays) <= deliveries.MAX_DELAY * 1.25
    assert delays[-1] >= timedelta(hours=12)
    assert deliveries.next_attempt(deliveries.MAX_ATTEMPTS, now, None) is None


def test_backoff_waits_at_least_as_long_as_retry_after_asks(now: datetime) -> None:
    at = deliveries.next_attempt(1, now, timedelta(hours=2))
    assert at is not None and at - now >= timedelta(hours=2)


# --- claiming ----------------------------------------------------------------------------------

async def test_claim_takes_only_due_pending_rows(sessions: Sessions, now: datetime) -> None:
    ids = await queue(sessions, BOB_INBOX, SOLINGEN_SHARED, KREFELD_SHARED, content="Grüße")
    async with sessions() as session, session.begin():
        await session.execute(update(Delivery).where(Delivery.id == ids[SOLINGEN_SHARED])
                              .values(next_attempt_at=now + timedelta(hours=1)))
        await session.execute(update(Delivery).where(Delivery.id == ids[KREFELD_SHARED]).values(state="sent"))
    claimed = await claim(sessions, now, limit=10)
    assert [item.id for item in claimed] == [ids[BOB_INBOX]]
    item = claimed[0]
    assert (item.inbox_url, item.sender_ap_id, item.attempts) == (BOB_INBOX, ALICE, 0)
    assert item.activity_ap_id.endswith("/activity")
    assert "Grüße".encode() in item.body  # the stored JSON, as UTF-8 bytes
    assert (await load(sessions, item.id)).lease_until == now + LEASE


async def test_claimed_row_is_claimed_again_only_after_its_lease(sessions: Sessions, now: datetime) -> None:
    ids = await queue(sessions, BOB_INBOX)
    assert [item.id for item in await claim(sessions, now)] == [ids[BOB_INBOX]]
    # The worker crashed: nobody records. Until the lease ends nobody else sends it.
    assert await claim(sessions, now + LEASE - timedelta(seconds=1)) == []
    again = await claim(sessions, now + LEASE + timedelta(seconds=1))
    assert [item.id for item in again] == [ids[BOB_INBOX]]


async def test_concurrent_claimers_never_share_a_row(sessions: Sessions, now: datetime) -> None:
    inboxes = [f"https://city{n}.test/inbox" for n in range(24)]
    ids = await queue(sessions, *inboxes)

    async def claimer() -> list[int]:
        taken: list[int] = []
        for _ in range(50):  # bounded: 24 rows, 2 per round
            batch = await claim(sessions, now, limit=2)
            if not batch:
                break
            taken += [item.id for item in batch]
            await asyncio.sleep(0)  # let the other claimers in between rounds
        return taken

    results = await asyncio.gather(*(claimer() for _ in range(4)))
    everything = [id_ for taken in results for id_ in taken]
    assert sorted(everything) == sorted(ids.values())  # each row exactly once


@pytest.mark.postgres
async def test_uncommitted_claim_is_skipped_not_waited_for(fresh_postgres_url: str, now: datetime) -> None:
    engine = create_engine(fresh_postgres_url)
    await migrate(engine)
    sessions = session_factory(engine)
    try:
        await queue(sessions, BOB_INBOX, SOLINGEN_SHARED, KREFELD_SHARED)
        async with sessions() as first, first.begin():
            mine = await deliveries.claim_due(first, now=now, lease=LEASE, limit=2)
            # The first transaction still holds its row locks: SKIP LOCKED passes over them.
            theirs = await asyncio.wait_for(claim(sessions, now, limit=3), timeout=10)
        assert len(mine) == 2 and len(theirs) == 1
        assert {item.id for item in mine}.isdisjoint(item.id for item in theirs)
    finally:
        await engine.dispose()


# --- recording ---------------------------------------------------------------------------------

async def test_retry_schedules_the_next_attempt_and_frees_the_lease(sessions: Sessions, now: datetime) -> None:
    ids = await queue(sessions, BOB_INBOX)
    await claim(sessions, now)
    assert await record(sessions, ids[BOB_INBOX], Outcome.retry("503 from inbox"), now) == "pending"
    row = await load(sessions, ids[BOB_INBOX])
    assert (row.attempts, row.last_error, row.lease_until) == (1, "503 from inbox", None)
    assert now + timedelta(seconds=30) <= row.next_attempt_at <= now + timedelta(seconds=38)
    assert await claim(sessions, now) == []


@pytest.mark.parametrize(("outcome", "state"), [
    (Outcome.sent("202 from inbox"), "sent"), (Outcome.give_up("401 from inbox"), "failed"),
])
async def test_final_outcomes_finish_the_row(sessions: Sessions, now: datetime, outcome: Outcome, state: str) -> None:
    ids = await queue(sessions, BOB_INBOX)
    assert await record(sessions, ids[BOB_INBOX], outcome, now) == state
    row = await load(sessions, ids[BOB_INBOX])
    assert (row.state, row.attempts, row.lease_until) == (state, 1, None)
    assert row.last_error == ("" if state == "sent" else "401 from inbox")
    assert await claim(sessions, now + timedelta(days=30)) == []


async def test_exhausted_retries_give_up(sessions: Sessions, now: datetime) -> None:
    ids = await queue(sessions, BOB_INBOX)
    async with sessions() as session, session.begin():
        await session.execute(update(Delivery).values(attempts=deliveries.MAX_ATTEMPTS - 1))
    assert await record(sessions, ids[BOB_INBOX], Outcome.retry("ConnectError"), now) == "failed"
    row = await load(sessions, ids[BOB_INBOX])
    assert row.last_error == f"gave up after {deliveries.MAX_ATTEMPTS} attempts; last: ConnectError"


async def test_late_record_does_not_reopen_a_finished_row(sessions: Sessions, now: datetime) -> None:
    ids = await queue(sessions, BOB_INBOX)
    # Worker A's lease ran out; worker B sent the row; A's retry arrives afterwards.
    await record(sessions, ids[BOB_INBOX], Outcome.sent(), now)
    assert await record(sessions, ids[BOB_INBOX], Outcome.retry("ReadTimeout"), now) == "sent"
    assert (await load(sessions, ids[BOB_INBOX])).attempts == 1


async def test_record_of_a_deleted_row_is_a_no_op(sessions: Sessions, now: datetime) -> None:
    assert await record(sessions, 12345, Outcome.sent(), now) is None


async def test_gone_inbox_gets_none_of_its_other_deliveries(sessions: Sessions, now: datetime) -> None:
    first = await queue(sessions, BOB_INBOX, KREFELD_SHARED)
    second = await queue(sessions, BOB_INBOX)
    assert await record(sessions, first[BOB_INBOX], Outcome.gone("410 from inbox"), now) == "gone"
    assert (await load(sessions, second[BOB_INBOX])).state == "gone"
    assert (await load(sessions, first[KREFELD_SHARED])).state == "pending"
    async with sessions() as session:
        assert await deliveries.gone_inboxes(session, since=now) == [BOB_INBOX]
        assert await deliveries.gone_inboxes(session, since=now + timedelta(seconds=1)) == []


async def test_failing_origin_holds_back_its_other_deliveries(sessions: Sessions, now: datetime) -> None:
    ids = await queue(sessions, BOB_INBOX, SOLINGEN_SHARED, KREFELD_SHARED)
    for attempt in range(deliveries.BREAKER_THRESHOLD):
        await record(sessions, ids[BOB_INBOX], Outcome.retry("ConnectError"), now)
        held_back = (await load(sessions, ids[SOLINGEN_SHARED])).next_attempt_at > now
        assert held_back == (attempt + 1 >= deliveries.BREAKER_THRESHOLD)
    probe = await load(sessions, ids[BOB_INBOX])
    waiting = await load(sessions, ids[SOLINGEN_SHARED])
    assert waiting.next_attempt_at == probe.next_attempt_at and waiting.attempts == 0
    assert [item.inbox_url for item in await claim(sessions, now, limit=10)] == [KREFELD_SHARED]


async def test_prune_deletes_only_rows_finished_before_the_moment(sessions: Sessions, now: datetime) -> None:
    ids = await queue(sessions, BOB_INBOX, SOLINGEN_SHARED, KREFELD_SHARED, "https://rheinberg.test/inbox")
    await record(sessions, ids[BOB_INBOX], Outcome.sent(), now - timedelta(days=2))
    await record(sessions, ids[SOLINGEN_SHARED], Outcome.give_up("403 from inbox"), now - timedelta(days=2))
    await record(sessions, ids[KREFELD_SHARED], Outcome.sent(), now)
    async with sessions() as session, session.begin():
        assert await deliveries.prune_finished(session, older_than=now - timedelta(days=1)) == 2
    async with sessions() as session:
        left = set((await session.scalars(select(Delivery.inbox_url))).all())
    assert left == {KREFELD_SHARED, "https://rheinberg.test/inbox"}


def test_origin_keeps_scheme_host_and_port() -> None:
    assert deliveries.origin_of("http://LOCALHOST:8001/users/a/inbox") == "http://localhost:8001/"
