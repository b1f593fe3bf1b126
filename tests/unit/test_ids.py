"""Time-ordered ids: increasing, unique under concurrency, and readable back as time."""
from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone

from fedserver import ids
from fedserver.ids import IdGenerator, time_of


def test_ids_increase_even_within_one_millisecond() -> None:
    generator = IdGenerator()
    values = [generator.next_id(now_ms=1_700_000_000_000) for _ in range(3000)]
    assert values == sorted(values)
    assert len(set(values)) == len(values)


def test_ids_stay_increasing_when_the_clock_goes_back() -> None:
    generator = IdGenerator()
    first = generator.next_id(now_ms=1_700_000_000_500)
    second = generator.next_id(now_ms=1_700_000_000_000)
    assert second > first


def test_id_carries_its_time() -> None:
    moment = datetime(2026, 11, 25, 14, 28, 40, 123000, tzinfo=timezone.utc)
    generator = IdGenerator()
    assert time_of(generator.id_at(moment)) == moment
    assert time_of(generator.next_id()) > moment - timedelta(days=365)


def test_ids_fit_a_signed_bigint() -> None:
    far_future_ms = int(datetime(3000, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
    assert 0 < IdGenerator(node_id=63).next_id(now_ms=far_future_ms) < 2**63


def test_a_moment_ahead_of_the_clock_does_not_drag_later_ids_into_the_future() -> None:
    """A peer's post dated next year (or a test's clock) gets an id for now; new ids stay at now."""
    generator = IdGenerator()
    before = datetime.now(timezone.utc)
    ahead = generator.id_at(before + timedelta(days=365))
    later = generator.next_id()
    assert later > ahead
    assert time_of(ahead) < before + timedelta(minutes=1)
    assert time_of(later) < before + timedelta(minutes=1)


def test_past_ids_for_the_same_moment_are_unique() -> None:
    generator = IdGenerator()
    generator.next_id()
    moment = datetime(2020, 1, 1, tzinfo=timezone.utc)
    values = {generator.id_at(moment) for _ in range(500)}
    assert len(values) == 500


def test_node_ids_keep_processes_apart() -> None:
    now_ms = 1_700_000_000_000
    assert IdGenerator(node_id=1).next_id(now_ms) != IdGenerator(node_id=2).next_id(now_ms)


async def test_unique_across_concurrent_tasks() -> None:
    async def take(count: int) -> list[int]:
        values = []
        for _ in range(count):
            values.append(ids.new_id())
            await asyncio.sleep(0)
        return values

    batches = await asyncio.gather(*(take(500) for _ in range(8)))
    every = [value for batch in batches for value in batch]
    assert len(set(every)) == len(every)
    for batch in batches:
        assert batch == sorted(batch)


def test_unique_across_threads() -> None:
    generator = IdGenerator()
    results: list[list[int]] = [[] for _ in range(4)]

    def take(slot: int) -> None:
        results[slot].extend(generator.next_id() for _ in range(5000))

    threads = [threading.Thread(target=take, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [value for batch in results for value in batch]
    assert len(set(every)) == len(every)
