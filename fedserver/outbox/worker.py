"""The delivery worker: claim a due delivery, sign and POST it outside any transaction, record the outcome."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fedserver.activitypub import signatures
from fedserver.db import is_busy, lock_for_writing
from fedserver.activitypub.ssrf import ForbiddenAddress
from fedserver.outbox import deliveries
from fedserver.outbox.deliveries import ClaimedDelivery, Outcome

logger = logging.getLogger(__name__)

# A send is cut off long before its lease ends, so a live worker never loses its row to another.
SEND_TIMEOUT = timedelta(seconds=60)
LEASE = timedelta(minutes=5)
CONCURRENCY = 4  # sender loops, each with a batch of up to BATCH deliveries in flight
BATCH = 32
ANSWER_CAP = 65_536
DRAIN_ROUNDS = 1000


@dataclass
class DeliveryDeps:
    """What the worker needs from the composition root (app.py, cli.py)."""

    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    signing_key: Callable[[str], Awaitable[tuple[str, str]]]  # sender_ap_id -> (key_id, private_pem)
    user_agent: str


async def deliver_one(deps: DeliveryDeps, now: datetime) -> bool:
    """Send one due delivery and record what came of it; False when nothing was due."""
    return await deliver_batch(deps, now, limit=1) > 0


async def deliver_batch(deps: DeliveryDeps, now: datetime, limit: int = BATCH) -> int:
    """Claim up to `limit` due deliveries in one short transaction, send them concurrently outside any
    transaction, and record every outcome in one more; returns how many were attempted.

    One claim and one record per batch instead of per delivery: the queue's database work, not
    signing or HTTP, dominated a fan-out (bench/fanout.py)."""
    async with deps.sessions() as session, session.begin():
        claimed = await deliveries.claim_due(session, now=now, lease=LEASE, limit=limit)
    if not claimed:
        return 0
    by_origin: dict[str, list[ClaimedDelivery]] = {}
    for delivery in claimed:
        by_origin.setdefault(deliveries.origin_of(delivery.inbox_url), []).append(delivery)
    results = [pair for group in await asyncio.gather(*(_send_to_origin(deps, group, now)
                                                        for group in by_origin.values())) for pair in group]
    async with deps.sessions() as session, session.begin():
        await lock_for_writing(session)
        # Released rows first, so that the origin breaker in record() can postpone them too.
        for delivery in (delivery for delivery, outcome in results if outcome is None):
            await deliveries.release(session, delivery.id)
        for delivery, outcome in results:
            if outcome is None:
                continue
            state = await deliveries.record(session, delivery.id, outcome, now=now)
            logger.info("delivery %s of %s to %s: %s -> %s", delivery.id, delivery.activity_ap_id,
                        delivery.inbox_url, outcome.reason or outcome.kind, state)
    return len(claimed)


async def _send_to_origin(deps: DeliveryDeps, group: list[ClaimedDelivery],
                          now: datetime) -> list[tuple[ClaimedDelivery, Outcome | None]]:
    """One server's deliveries in order; once it fails, the rest wait (None) rather than hammer it."""
    results: list[tuple[ClaimedDelivery, Outcome | None]] = []
    failing = False
    for delivery in group:
        outcome = None if failing else await _attempt(deps, delivery, now)
        failing = failing or (outcome is not None and outcome.kind == "retry")
        results.append((delivery, outcome))
    return results


async def _attempt(deps: DeliveryDeps, delivery: ClaimedDelivery, now: datetime) -> Outcome:
    try:
        return await _send(deps, delivery, now)
    except Exception as exc:  # the worker boundary (STYLE.md 5): the error goes onto the row
        logger.exception("delivery %s of %s to %s failed unexpectedly",
                         delivery.id, delivery.activity_ap_id, delivery.inbox_url)
        return Outcome.retry(f"{type(exc).__name__}: {exc}")


async def _send(deps: DeliveryDeps, delivery: ClaimedDelivery, now: datetime) -> Outcome:
    """Sign and POST one body; network trouble means the peer may be down, so try again later."""
    key_id, private_pem = await deps.signing_key(delivery.sender_ap_id)
    headers = signatures.sign_post(delivery.inbox_url, delivery.body, key_id, private_pem, now)
    headers["User-Agent"] = deps.user_agent
    try:
        async with asyncio.timeout(SEND_TIMEOUT.total_seconds()):
            async with deps.http.stream("POST", delivery.inbox_url, content=delivery.body,
                                        headers=headers) as response:
                await _discard_answer(response)
                return deliveries.outcome_of(response.status_code, response.headers.get("Retry-After"), now)
    except ForbiddenAddress as exc:  # the inbox is on a private address: asking again will not help
        return Outcome.give_up(str(exc))
    except httpx.TransportError as exc:  # refused, DNS, TLS, timeout: the peer may be down
        return Outcome.retry(type(exc).__name__)
    except TimeoutError:
        return Outcome.retry(f"no answer within {SEND_TIMEOUT.total_seconds():.0f} s")


async def _discard_answer(response: httpx.Response) -> None:
    """Read (and drop) a small answer so the connection goes back to the pool for the next delivery;
    an answer past ANSWER_CAP is cut off instead (it is of no use and could be huge)."""
    received = 0
    async for chunk in response.aiter_raw():
        received += len(chunk)
        if received > ANSWER_CAP:
            return


async def drain(deps: DeliveryDeps, now: datetime, max_rounds: int = DRAIN_ROUNDS) -> int:
    """Deliver until nothing is due at `now` (at most `max_rounds` attempts); returns the attempts made."""
    made = 0
    while made < max_rounds:
        attempted = await deliver_batch(deps, now, limit=min(BATCH, max_rounds - made))
        if not attempted:
            break
        made += attempted
    return made


async def run_forever(deps: DeliveryDeps, clock: Callable[[], datetime], stop: asyncio.Event,
                      idle_sleep: float = 1.0, concurrency: int = CONCURRENCY) -> None:
    """The background sender of `fedserver serve` and `fedserver worker`: up to `concurrency` sends at once."""
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(_sender_loop(deps, clock, stop, idle_sleep))


async def _sender_loop(deps: DeliveryDeps, clock: Callable[[], datetime], stop: asyncio.Event,
                       idle_sleep: float) -> None:
    """One of the concurrent senders; it rests while nothing is due and ends when `stop` is set."""
    while not stop.is_set():
        try:
            was_busy = await deliver_batch(deps, clock()) > 0
        except Exception as exc:  # worker boundary: the database hiccuped; the lease brings the row back
            if is_busy(exc):
                logger.warning("delivery worker: the database is busy; trying again")
            else:
                logger.exception("the delivery worker could not reach the database")
            was_busy = False
        if not was_busy:
            try:
                await asyncio.wait_for(stop.wait(), timeout=idle_sleep)
            except TimeoutError:
                pass
