"""Faults: a peer that is down, and a sender killed with deliveries in its queue. Nothing is lost, nothing doubles.

The first two tests run in-process (tests/federation/cities.py): the Router takes a city down and
`now` moves forward instead of anyone sleeping. The last one kills a real `fedserver serve` with
kill -9 and restarts it on the same data dir and port.
"""
from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from fedserver.db import utcnow
from fedserver.outbox import deliveries
from fedserver.outbox.deliveries import Delivery
from tests.cities import City
from tests.e2e.servers import free_port
from tests.e2e.two_cities import CityDir, create_account, follow_states, remote_texts, run, serving, wait_until
from tests.e2e.two_cities import follow as follow_process
from tests.federation.cities import Federation, federation, follow, stored_texts

# The longest first retry: FIRST_DELAY stretched by at most 25 % (deliveries.next_attempt).
LONGEST_FIRST_RETRY = deliveries.FIRST_DELAY * 1.25


def set_clocks(fed: Federation, moment: datetime) -> None:
    """Every city's inbox believes it is `moment`, as the delivery workers driven by drain(moment) do:
    otherwise a delivery signed hours "later" would be refused for its Date."""
    for city in fed.cities.values():
        city.app.state.inbox = dataclasses.replace(city.app.state.inbox, clock=lambda: moment)


async def delivery_rows(city: City) -> list[Delivery]:
    async with city.site.sessions() as session:
        return list((await session.scalars(select(Delivery).order_by(Delivery.id))).all())


def posts_to(fed: Federation, host: str) -> int:
    """How many POSTs were attempted to `host` (refused connections included)."""
    return sum(1 for method, url in fed.router.requests if method == "POST" and f"//{host}/" in url)


async def test_peer_down_then_back_the_delivery_is_retried_not_lost_and_arrives_once(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = fed["moers.test"], fed["solingen.test"]
        await moers.create_account("alice")
        await solingen.create_account("bob")
        await follow(solingen, "bob", "alice@moers.test")
        await fed.drain()

        fed.router.take_down("solingen.test")
        attempts = posts_to(fed, "solingen.test")  # the Accept of bob's follow went there already
        await moers.post("alice", "Während Solingen schläft")
        now = utcnow()
        await fed.drain(now)
        [row] = [row for row in await delivery_rows(moers) if row.state == deliveries.PENDING]
        assert row.attempts == 1 and row.last_error == "ConnectError"
        assert now + deliveries.FIRST_DELAY <= row.next_attempt_at <= now + LONGEST_FIRST_RETRY
        assert await stored_texts(solingen) == []
        attempts += 1
        assert posts_to(fed, "solingen.test") == attempts

        fed.router.bring_back("solingen.test")
        await fed.drain(now)  # back, but the retry is not due yet: nothing is sent early
        assert posts_to(fed, "solingen.test") == attempts and await stored_texts(solingen) == []

        later = now + LONGEST_FIRST_RETRY + timedelta(seconds=1)
        set_clocks(fed, later)
        await fed.drain(later)
        texts = await stored_texts(solingen)
        assert len(texts) == 1 and "Während Solingen schläft" in texts[0]
        [retried] = [other for other in await delivery_rows(moers) if other.id == row.id]
        assert retried.state == deliveries.SENT and retried.attempts == 2 and retried.last_error == ""

        much_later = later + timedelta(hours=6)
        set_clocks(fed, much_later)
        await fed.drain(much_later)  # nothing left to send: it arrived exactly once
        assert len(await stored_texts(solingen)) == 1
        assert posts_to(fed, "solingen.test") == attempts + 1


async def test_peer_down_for_several_retries_every_post_arrives_once_after_it_returns(tmp_path: Path) -> None:
    """Three posts fail four times each; the origin breaker holds them together; none is lost or doubled."""
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = fed["moers.test"], fed["solingen.test"]
        await moers.create_account("alice")
        await solingen.create_account("bob")
        await follow(solingen, "bob", "alice@moers.test")
        await fed.drain()

        fed.router.take_down("solingen.test")
        before = posts_to(fed, "solingen.test")
        texts = ["Erster Beitrag", "Zweiter Beitrag", "Dritter Beitrag"]
        for text in texts:
            await moers.post("alice", text)
        start = utcnow()
        for hour in range(4):  # an hour apart: every retry is due again (4 failures: at most 10 min)
            moment = start + timedelta(hours=hour)
            set_clocks(fed, moment)
            await fed.drain(moment)
        pending = [row for row in await delivery_rows(moers) if row.state == deliveries.PENDING]
        assert len(pending) == 3 and all(row.attempts >= deliveries.BREAKER_THRESHOLD - 1 for row in pending)
        # After BREAKER_THRESHOLD failures of one delivery the others wait for it: fewer than 3 x 4 tries.
        assert sum(row.attempts for row in pending) == posts_to(fed, "solingen.test") - before < 3 * 4
        assert await stored_texts(solingen) == []

        fed.router.bring_back("solingen.test")
        moment = start + timedelta(hours=5)
        set_clocks(fed, moment)
        await fed.drain(moment)
        arrived = await stored_texts(solingen)
        assert len(arrived) == 3
        assert all(sum(text in html for html in arrived) == 1 for text in texts)
        assert all(row.state == deliveries.SENT for row in await delivery_rows(moers))


@pytest.mark.e2e
def test_deliveries_queued_for_a_down_peer_survive_kill_9_and_arrive_exactly_once(tmp_path: Path) -> None:
    """City 1 queues posts for city 2 while city 2 is down, is killed with -9, and both come back.

    Timing, bounded without any test-only setting: a failed delivery is retried FIRST_DELAY (30 s)
    after its first attempt, stretched by up to 25 % (outbox/deliveries.py next_attempt), and after
    three failures the origin breaker postpones the rest. So the outage is short: city 1's worker
    tries the first two posts once each (refused: city 2 is stopped), city 1 is killed, two more posts
    are queued by the CLI while it is dead (never attempted), city 2 and then city 1 come back. The
    never-attempted posts go out as soon as city 1's worker starts; the two failed ones at their first
    retry, at most 37.5 s after it failed: the test waits for that bound plus 45 s, never longer.
    city 1 is killed only once both failures are recorded (no row leased), because a delivery
    leased at the moment of a crash waits for its lease (5 min) to run out: correct, but too long here.
    """
    city1, city2 = CityDir(tmp_path / "city1", free_port()), CityDir(tmp_path / "city2", free_port())
    assert city1.port != city2.port
    texts = [f"Beitrag Nummer {number} aus Stadt 1" for number in range(1, 5)]
    create_account(city1, "alice")
    create_account(city2, "bob")
    with serving(city1) as server1:
        with serving(city2):
            follow_process(city2, "bob", city1.handle("alice"))
            wait_until("city 2 to record alice's Accept", lambda: follow_states(city2) == ["accepted"])
        # City 2 is stopped. City 1's worker tries each post at once and is refused.
        for text in texts[:2]:
            run(city1, "status", "post", "alice", text)

        def failed_once_and_not_leased() -> bool:
            rows = city1.rows("SELECT attempts, lease_until FROM deliveries WHERE state = 'pending'")
            return len(rows) == 2 and all(attempts == 1 and lease is None for attempts, lease in rows)

        wait_until("city 1 to record a failed first attempt of both posts", failed_once_and_not_leased)
        first_failures_by = time.monotonic()
        server1.kill_hard()
    assert server1.process.returncode == -9
    for text in texts[2:]:  # queued while city 1 is dead: written to the queue, not attempted
        run(city1, "status", "post", "alice", text)
    assert sorted(city1.rows("SELECT attempts FROM deliveries WHERE state = 'pending'")) == [(0,), (0,), (1,), (1,)]
    assert remote_texts(city2) == []

    with serving(city2) as server2, serving(city1) as restarted1:
        # +45 s: room for a slow, shared machine to start both servers and apply what arrives.
        bound = LONGEST_FIRST_RETRY.total_seconds() + 45 - (time.monotonic() - first_failures_by)
        wait_until("all four posts to arrive in city 2", lambda: len(remote_texts(city2)) >= len(texts), bound)
        wait_until("city 1 to record every delivery as sent",
                   lambda: city1.rows("SELECT count(*) FROM deliveries WHERE state != 'sent'") == [(0,)])
        arrived = remote_texts(city2)
        assert len(arrived) == len(texts), arrived
        assert all(sum(text in html for html in arrived) == 1 for text in texts), arrived
        assert city2.rows("SELECT count(*), count(DISTINCT activity_ap_id) FROM inbox_items "
                          "WHERE activity_type = 'Create'") == [(4, 4)]
        # The two posts tried before the crash needed a second attempt; the two queued while it was dead, one.
        assert sorted(city1.rows("SELECT d.attempts FROM deliveries d JOIN published_activities p "
                                 "ON p.id = d.activity_id WHERE p.type = 'Create'")) == [(1,), (1,), (2,), (2,)]
        assert "Traceback" not in server2.log() + restarted1.log()
