"""The inbox worker: claim a stored activity, fetch what it needs, apply it in one transaction."""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from fedserver.activitypub import jsonld
from fedserver.activitypub.errors import MalformedObject, OriginMismatch, PeerUnavailable
from fedserver.activitypub.fetch import Gone
from fedserver.inbox import queue
from fedserver.inbox.context import InboxDeps, Incoming
from fedserver.inbox.dispatch import dispatch
from fedserver.inbox.prepare import prepare
from fedserver.local import actors
from fedserver.local.errors import LocalError

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)


async def process_one(deps: InboxDeps, now: datetime) -> bool:
    """Apply one due activity; False when nothing was due."""
    async with deps.sessions() as session, session.begin():
        item = await queue.claim_due(session, now=now, lease=LEASE)
    if item is None:
        return False
    try:
        activity = _readable(json.loads(item.body))
        fetched = {iri: _readable(doc) for iri, doc in (await prepare(deps, activity, now=now)).items()}
        async with deps.sessions() as session, session.begin():
            actor = await actors.get_by_ap_id(session, item.actor_ap_id)
            incoming = Incoming(session, deps.urls, activity, item.activity_ap_id, actor, now, fetched)
            await dispatch(incoming)
            await queue.finish(session, item.id, queue.SKIPPED if incoming.skipped else queue.DONE,
                               incoming.skipped or "")
        log.info("inbox applied %s: %s", item.activity_ap_id, incoming.skipped or "done")
    except (MalformedObject, OriginMismatch, LocalError, Gone) as exc:
        # Not retryable: the activity is wrong, or refers to what no longer exists.
        log.info("inbox skipped %s: %s", item.activity_ap_id, exc)
        async with deps.sessions() as session, session.begin():
            await queue.finish(session, item.id, queue.SKIPPED, f"{type(exc).__name__}: {exc}")
    except PeerUnavailable as exc:
        await _retry(deps, item, f"PeerUnavailable: {exc}", now)
    except Exception as exc:  # the worker boundary: the error goes on the row, the worker lives on
        log.exception("inbox failed on %s", item.activity_ap_id)
        await _retry(deps, item, f"{type(exc).__name__}: {exc}", now)
    return True


def _readable(document: dict[str, Any]) -> dict[str, Any]:
    """The document in the terms our converters read: pyld runs only when its @context could remap them."""
    return jsonld.normalise(document) if jsonld.needs_normalising(document) else document


async def _retry(deps: InboxDeps, item: queue.ClaimedItem, error: str, now: datetime) -> None:
    async with deps.sessions() as session, session.begin():
        await queue.retry_later(session, item.id, item.attempts, error, now=now)


async def drain(deps: InboxDeps, now: datetime, max_items: int = 10_000) -> int:
    """Apply due activities until none is left (bounded); returns how many were handled."""
    handled = 0
    while handled < max_items and await process_one(deps, now):
        handled += 1
    return handled


async def run_forever(deps: InboxDeps, stop: asyncio.Event, idle_sleep: float = 0.5) -> None:
    """The background loop of `fedserver serve` and `fedserver worker`."""
    while not stop.is_set():
        try:
            busy = await process_one(deps, deps.clock())
        except Exception:  # a database hiccup must not end the worker
            log.exception("inbox worker loop error")
            busy = False
        if not busy:
            try:
                await asyncio.wait_for(stop.wait(), timeout=idle_sleep)
            except asyncio.TimeoutError:
                pass
