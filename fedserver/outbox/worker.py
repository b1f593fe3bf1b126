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
from fedserver.activitypub.ssrf import ForbiddenAddress
from fedserver.outbox import deliveries
from fedserver.outbox.deliveries import ClaimedDelivery, Outcome

logger = logging.getLogger(__name__)

# A send is cut off long before its lease ends, so a live worker never loses its row to another.
SEND_TIMEOUT = timedelta(seconds=60)
LEASE = timedelta(minutes=5)
CONCURRENCY = 8
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
    async with deps.sessions() as session, session.begin():
        claimed = await deliveries.claim_due(session, now=now, lease=LEASE)
    if not claimed:
        return False
    delivery = claimed[0]
    try:
        outcome = await _send(deps, delivery, now)
    except Exception as exc:  # the worker boundary (STYLE.md 5): the error goes onto the row
        logger.exception("delivery %s of %s to %s failed unexpectedly",
                         delivery.id, delivery.activity_ap_id, delivery.inbox_url)
        outcome = Outcome.retry(f"{type(exc).__name__}: {exc}")
    async with deps.sessions() as session, session.begin():
        state = await deliveries.record(session, delivery.id, outcome, now=now)
    logger.info("delivery %s of %s to %s: %s -> %s", delivery.id, delivery.activity_ap_id,
                delivery.inbox_url, outcome.reason or outcome.kind, state)
    return True


async def _send(deps: DeliveryDeps, delivery: ClaimedDelivery, now: datetime) -> Outcome:
    """Sign and POST one body; network trouble means the peer may be down, so try again later."""
    key_id, private_pem = await deps.signing_key(delivery.sender_ap_id)
    headers = signatures.sign_post(delivery.inbox_url, delivery.body, key_id, private_pem, now)
    headers["User-Agent"] = deps.user_agent
    try:
        async with asyncio.timeout(SEND_TIMEOUT.total_seconds()):
            # Streamed and never read: an inbox's answer body is of no use, and may be huge.
            async with deps.http.stream("POST", delivery.inbox_url, content=delivery.body,
                                        headers=headers) as response:
                return deliveries.outcome_of(response.status_code, response.headers.get("Retry-After"), now)
    except ForbiddenAddress as exc:  # the inbox is on a private address: asking again will not help
        return Outcome.give_up(str(exc))
    except httpx.TransportError as exc:  # refused, DNS, TLS, timeout: the peer may be down
        return Outcome.retry(type(exc).__name__)
    except TimeoutError:
        return Outcome.retry(f"no answer within {SEND_TIMEOUT.total_seconds():.0f} s")


async def drain(deps: DeliveryDeps, now: datetime, max_rounds: int = DRAIN_ROUNDS) -> int:
    """Deliver until nothing is due at `now` (at most `max_rounds` attempts); returns the attempts made."""
    made = 0
    while made < max_rounds and await deliver_one(deps, now):
        made += 1
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
            was_busy = await deliver_one(deps, clock())
        except Exception:  # worker boundary: the database hiccuped; the lease brings the row back
            logger.exception("the delivery worker could not reach the database")
            was_busy = False
        if not was_busy:
            try:
                await asyncio.wait_for(stop.wait(), timeout=idle_sleep)
            except TimeoutError:
                pass
