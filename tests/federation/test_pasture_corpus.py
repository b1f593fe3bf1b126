"""The fediverse-pasture corpus: a few hundred unusual but real-world notes, each delivered to a city.

`fediverse_pasture_inputs.available` holds the examples the pasture sends to Mastodon, Misskey and
others (https://funfedi.dev/support_tables/); its own ExampleTransformer wraps each one in a Create
exactly as the pasture does. We move them onto a peer's origin and deliver them all: each must be
accepted (202) or refused with a reason (4xx), never a 5xx; after draining, no inbox row may hold an
unexpected Python exception, and every stored status must render through the web UI's post partial.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fedserver.inbox.queue import DONE, SKIPPED, InboxItem
from fedserver.local import html
from fedserver.local.models.actors import Actor
from fedserver.local.models.statuses import Status
from tests.federation.cities import federation, local_actor
from tests.federation.peer import rehost, start_peer
from webui.feeds import Post
from webui.rendering import post_html

fediverse_pasture_inputs = pytest.importorskip("fediverse_pasture_inputs")
transformer_module = pytest.importorskip("fediverse_pasture_inputs.tool.transformer")

BATCH = 50  # deliveries between drains: the queue is worked the way a busy inbox is
# What the worker writes on a row when it refuses an activity on purpose (inbox/worker.py); any
# other "SomeError: ..." note is a crash that the worker boundary caught.
DELIBERATE = {"MalformedObject", "OriginMismatch", "NotAllowed", "NotFound", "Invalid", "Gone"}
# The pasture's placeholders: its sending actor, the actor it names as "the pasture" in examples,
# and the receiving account it addresses and mentions.
PASTURE_ACTOR = "http://actor.example"
PASTURE_ONE_ACTOR = "http://pasture-one-actor/actor"
PASTURE_ONE_ORIGIN = "http://pasture-one-actor"
RECIPIENT = "http://remote.example/"


async def _corpus() -> list[tuple[str, dict[str, Any]]]:
    """(label, Create activity) for every example of every input, built by the pasture's own code."""
    transformer = transformer_module.ExampleTransformer()
    corpus = []
    for name, inputs in sorted(fediverse_pasture_inputs.available.items()):
        for index, example in enumerate(inputs.examples):
            corpus.append((f"{name}[{index}]", await transformer.create_activity(example)))
    return corpus


def _crash(row: InboxItem) -> str | None:
    """The exception on a row that is not a deliberate refusal, or None."""
    if row.state not in (DONE, SKIPPED):
        return f"{row.state} after {row.attempts} attempt(s): {row.note}"
    match = re.match(r"(\w+): ", row.note)
    if match and match.group(1) not in DELIBERATE and match.group(1).endswith(("Error", "Exception")):
        return row.note
    return None


async def test_every_pasture_note_is_stored_or_cleanly_refused(tmp_path: Path) -> None:
    corpus = await _corpus()
    assert len(corpus) >= 200, "the corpus shrank: check the installed fediverse-pasture-inputs"
    async with federation(tmp_path, "moers.test") as fed, start_peer(fed, "pasture.test") as peer:
        city = fed["moers.test"]
        await city.create_account("alice")
        alice = (await local_actor(city, "alice")).ap_id
        sender = peer.add_actor("pasture")
        mapping = {PASTURE_ACTOR: sender.ap_id, PASTURE_ONE_ACTOR: sender.ap_id,
                   PASTURE_ONE_ORIGIN: peer.origin, RECIPIENT: alice}
        labels: dict[str, str] = {}
        answers: dict[str, tuple[int, str]] = {}
        for number, (label, activity) in enumerate(corpus, start=1):
            moved = rehost(activity, mapping)
            labels[str(moved["id"])] = label
            response = await peer.deliver(city, moved, sender)
            answers[label] = (response.status_code, response.text)
            if number % BATCH == 0:
                await fed.drain()
        await fed.drain()
        async with city.site.sessions() as session:
            rows = (await session.scalars(select(InboxItem))).all()
            stored = (await session.execute(select(Status, Actor).join(Actor, Actor.id == Status.author_id)
                                            .where(Status.is_local.is_(False)))).all()
            rendered = [post_html("de", Post.plain(status, author)) for status, author in stored]
            cleaned = [html.clean(status.content_html) for status, _ in stored]

    server_errors = {label: answer for label, answer in answers.items() if answer[0] >= 500}
    assert not server_errors, f"5xx for: {server_errors}"
    refused = {label: answer for label, answer in answers.items() if answer[0] != 202}
    for label, (status_code, text) in refused.items():
        assert 400 <= status_code < 500 and '"error"' in text, f"{label}: {status_code} {text!r}"
    crashes = {labels.get(row.activity_ap_id, row.activity_ap_id): _crash(row) for row in rows if _crash(row)}
    assert not crashes, f"inbox rows with unexpected exceptions: {crashes}"
    assert len(rows) == len(corpus) - len(refused)
    # Stored HTML stays clean: rendering it again removes nothing, and nothing active reaches a page.
    for (status, _), clean, page in zip(stored, cleaned, rendered):
        assert clean == status.content_html, f"{status.ap_id} was stored with HTML nh3 would still change"
        assert "<script" not in page and "onerror=" not in page and "javascript:" not in page
    # Most of the corpus is ordinary enough to be stored: only odd types and missing fields may be skipped.
    skipped = Counter(labels[row.activity_ap_id].split("[")[0] for row in rows if row.state == SKIPPED)
    assert len(stored) >= len(corpus) * 3 // 4, f"only {len(stored)} of {len(corpus)} stored; skipped {skipped}"
