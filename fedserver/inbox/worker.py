"""The inbox worker: claim stored activities, fetch what they need, apply them in one transaction.

A batch is claimed in one statement and applied in one transaction, each activity inside its own
savepoint, so one broken activity never undoes the others; all outcomes are written in one more
statement. Network I/O (prepare) happens before the transaction opens. Consecutive plain Creates
(fast_create.py) are stored together in one savepoint, in a few statements; should that fail, each
is applied on its own as above.
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub import extract, jsonld, vocab
from fedserver.db import is_busy, lock_for_writing
from fedserver.activitypub.errors import MalformedObject, OriginMismatch, PeerUnavailable
from fedserver.activitypub.fetch import Gone
from fedserver.inbox import fast_create, queue
from fedserver.inbox.context import InboxDeps, Incoming
from fedserver.inbox.dispatch import dispatch
from fedserver.inbox.prepare import prepare
from fedserver.local import actors
from fedserver.local.errors import LocalError
from fedserver.local.models.actors import Actor

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BATCH = 50
RETRY = "retry"
# Not retryable: the activity is wrong, or refers to what no longer exists.
FINAL_ERRORS = (MalformedObject, OriginMismatch, LocalError, Gone)


@dataclass
class _Prepared:
    item: queue.ClaimedItem
    activity: dict[str, Any]
    fetched: dict[str, dict[str, Any]]


async def process_one(deps: InboxDeps, now: datetime) -> bool:
    """Apply one due activity; False when nothing was due."""
    return await process_batch(deps, now, limit=1) > 0


async def process_batch(deps: InboxDeps, now: datetime, limit: int = BATCH) -> int:
    """Apply up to `limit` due activities; returns how many were handled (0: nothing was due)."""
    # deps.intake.turn: this process's inbox writers take turns, so that POSTs arriving meanwhile are
    # stored right after this transaction instead of sleeping in SQLite's busy handler (intake.py).
    async with deps.intake.turn, deps.sessions() as session, session.begin():
        items = await queue.claim_due(session, now=now, lease=LEASE, limit=limit)
    if not items:
        return 0
    results: list[tuple[int, str, str]] = []
    retries: list[tuple[queue.ClaimedItem, str]] = []
    ready: list[_Prepared] = []
    for item in items:
        try:
            activity = _readable(json.loads(item.body))
            fetched = {iri: _readable(doc) for iri, doc in (await prepare(deps, activity, now=now)).items()}
            ready.append(_Prepared(item, activity, fetched))
        except FINAL_ERRORS as exc:
            log.info("inbox skipped %s: %s", item.activity_ap_id, exc)
            results.append((item.id, queue.SKIPPED, f"{type(exc).__name__}: {exc}"))
        except PeerUnavailable as exc:
            retries.append((item, f"PeerUnavailable: {exc}"))
        except Exception as exc:  # the worker boundary: the error goes on the row
            log.exception("inbox failed preparing %s", item.activity_ap_id)
            retries.append((item, f"{type(exc).__name__}: {exc}"))
    async with deps.intake.turn, deps.sessions() as session, session.begin():
        await lock_for_writing(session)
        for prepared, (state, note) in await _apply_in_order(deps, session, ready, now):
            if state == RETRY:
                retries.append((prepared.item, note))
            else:
                results.append((prepared.item.id, state, note))
        await queue.finish_many(session, results)
        for item, error in retries:
            await queue.retry_later(session, item.id, item.attempts, error, now=now)
    return len(items)


async def _apply_in_order(deps: InboxDeps, session: AsyncSession, ready: list[_Prepared],
                          now: datetime) -> list[tuple[_Prepared, tuple[str, str]]]:
    """Apply the activities in order: consecutive plain Creates as one run (fast_create), the rest one by one."""
    signers: dict[str, Actor] = {}
    local_origin = actors.origin_of(deps.urls.base_url)
    group_threads = await fast_create.in_groups(session, [
        reply for prepared in ready if (reply := fast_create.replied_to(prepared.activity, prepared.fetched))])
    outcomes: list[tuple[_Prepared, tuple[str, str]]] = []
    run: list[tuple[_Prepared, fast_create.Post]] = []
    for prepared in ready:
        post = await _plain_post(session, prepared, signers, local_origin, group_threads)
        if post is None or fast_create.depends_on(post, [queued for _, queued in run]):
            outcomes += await _apply_run(deps, session, run, signers, now)
            run = []
        if post is None:
            outcomes.append((prepared, await _apply(deps, session, prepared, signers, now)))
            # What the handlers stored may have joined a group: replies to it take their path too.
            group_threads.add(extract.id_of(prepared.activity.get("object")) or "")
        else:
            run.append((prepared, post))
    return outcomes + await _apply_run(deps, session, run, signers, now)


async def _plain_post(session: AsyncSession, prepared: _Prepared, signers: dict[str, Actor], local_origin: str,
                      group_threads: set[str]) -> fast_create.Post | None:
    """The post of a plain Create by a known actor (fast_create.plain_post), else None."""
    if extract.type_of(prepared.activity) != vocab.CREATE:
        return None
    ap_id = prepared.item.actor_ap_id
    author = signers.get(ap_id) or await actors.find_by_ap_id(session, ap_id)
    if author is None:
        return None  # the handler's path says the actor is unknown
    signers[ap_id] = author
    return fast_create.plain_post(prepared.activity, prepared.fetched, author, local_origin, group_threads)


async def _apply_run(deps: InboxDeps, session: AsyncSession, run: list[tuple[_Prepared, fast_create.Post]],
                     signers: dict[str, Actor], now: datetime) -> list[tuple[_Prepared, tuple[str, str]]]:
    """Store a run of plain Creates in one savepoint; if that fails, apply each on its own instead."""
    if not run:
        return []
    try:
        async with session.begin_nested():
            await fast_create.store_posts(session, [post for _, post in run], now=now)
    except Exception as exc:  # the worker boundary: each activity gets its own savepoint and outcome
        log.warning("inbox: storing %d Creates together failed (%s: %s); applying them one by one",
                    len(run), type(exc).__name__, exc)
        return [(prepared, await _apply(deps, session, prepared, signers, now)) for prepared, _ in run]
    for prepared, _ in run:
        log.info("inbox applied %s: done", prepared.item.activity_ap_id)
    return [(prepared, (queue.DONE, "")) for prepared, _ in run]


async def _apply(deps: InboxDeps, session: AsyncSession, prepared: _Prepared, signers: dict[str, Actor],
                 now: datetime) -> tuple[str, str]:
    """Apply one activity in a savepoint; (state, note), state RETRY when it should be tried again."""
    item = prepared.item
    try:
        async with session.begin_nested():
            actor = signers.get(item.actor_ap_id) or await actors.get_by_ap_id(session, item.actor_ap_id)
            signers[item.actor_ap_id] = actor
            incoming = Incoming(session, deps.urls, prepared.activity, item.activity_ap_id, actor, now,
                                prepared.fetched)
            await dispatch(incoming)
    except FINAL_ERRORS as exc:
        log.info("inbox skipped %s: %s", item.activity_ap_id, exc)
        signers.pop(item.actor_ap_id, None)  # a Delete of the actor may have removed it
        return queue.SKIPPED, f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # the worker boundary: rolled back to the savepoint, tried again later
        if is_busy(exc):
            log.warning("inbox: the database was busy applying %s; trying again later", item.activity_ap_id)
        else:
            log.exception("inbox failed on %s", item.activity_ap_id)
        signers.pop(item.actor_ap_id, None)
        return RETRY, f"{type(exc).__name__}: {exc}"
    log.info("inbox applied %s: %s", item.activity_ap_id, incoming.skipped or "done")
    if incoming.activity.get("type") == "Delete":
        signers.pop(item.actor_ap_id, None)
    return (queue.SKIPPED, incoming.skipped) if incoming.skipped else (queue.DONE, "")


def _readable(document: dict[str, Any]) -> dict[str, Any]:
    """The document in the terms our converters read: pyld runs only when its @context could remap them."""
    return jsonld.normalise(document) if jsonld.needs_normalising(document) else document


async def drain(deps: InboxDeps, now: datetime, max_items: int = 10_000) -> int:
    """Apply due activities until none is left (bounded); returns how many were handled."""
    handled = 0
    while handled < max_items:
        done = await process_batch(deps, now, limit=min(BATCH, max_items - handled))
        if not done:
            break
        handled += done
    return handled


async def run_forever(deps: InboxDeps, stop: asyncio.Event, idle_sleep: float = 0.5) -> None:
    """The background loop of `fedserver serve` and `fedserver worker`."""
    while not stop.is_set():
        try:
            busy = await process_batch(deps, deps.clock()) > 0
        except Exception as exc:  # a database hiccup must not end the worker
            if is_busy(exc):
                log.warning("inbox worker: the database is busy; trying again")
            else:
                log.exception("inbox worker loop error")
            busy = False
        if not busy:
            try:
                await asyncio.wait_for(stop.wait(), timeout=idle_sleep)
            except asyncio.TimeoutError:
                pass
