"""The Add, Remove and Update{Question} we send, compared with tests/golden/*.json: Mastodon's shapes
(ActivityPub::AddSerializer, RemoveSerializer, UpdatePollSerializer) with an id of our own per activity.

To rewrite the golden files after a deliberate change:
FEDSERVER_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/outbox/test_pin_and_poll_activities.py
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from fedserver.activitypub import vocab
from fedserver.activitypub.shapes import Note, Poll, PollOption
from fedserver.outbox import activities

GOLDEN = Path(__file__).parents[2] / "golden"
UTC = timezone.utc
ALICE = "https://moers.test/users/alice"
STATUS = f"{ALICE}/statuses/115000000000000001"
FEATURED = f"{ALICE}/collections/featured"


def golden_add() -> dict[str, Any]:
    return activities.build_add(f"{ALICE}/activities/115000000000000002", ALICE, STATUS, FEATURED)


def golden_remove() -> dict[str, Any]:
    return activities.build_remove(f"{ALICE}/activities/115000000000000003", ALICE, STATUS, FEATURED)


def golden_update_question() -> dict[str, Any]:
    question = Note(
        ap_id=STATUS, attributed_to=ALICE, type=vocab.QUESTION, content_html="<p>Wohin mit dem Brunnen?</p>",
        published=datetime(2026, 11, 25, 14, 28, 40, tzinfo=UTC), url="https://moers.test/@alice/115000000000000001",
        to=(vocab.PUBLIC,), cc=(f"{ALICE}/followers",), language="de", replies=f"{STATUS}/replies",
        poll=Poll(options=(PollOption("Markt", 3), PollOption("Park", 5)),
                  end_time=datetime(2026, 11, 26, 14, 28, 40, tzinfo=UTC), voters_count=8),
    )
    return activities.build_update(question, f"{ALICE}/activities/115000000000000004",
                                   datetime(2026, 11, 25, 15, 0, 0, tzinfo=UTC))


CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "add.json": golden_add, "remove.json": golden_remove, "update_question.json": golden_update_question,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_built_activity_matches_golden_file(name: str) -> None:
    rendered = CASES[name]()
    path = GOLDEN / name
    if os.environ.get("FEDSERVER_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(rendered, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert rendered == expected and list(rendered) == list(expected)


def test_add_and_remove_carry_what_mastodon_reads() -> None:
    for built in (golden_add(), golden_remove()):
        # ActivityPub::Activity::Add/Remove: `target` must be the actor's featured collection, `object` the status.
        assert (built["actor"], built["object"], built["target"]) == (ALICE, STATUS, FEATURED)
        assert "to" not in built and "cc" not in built  # Mastodon sends none; delivery goes to followers
    assert golden_add()["id"] != golden_remove()["id"]


def test_update_question_carries_the_counts() -> None:
    question = golden_update_question()["object"]
    assert [(o["name"], o["replies"]["totalItems"]) for o in question["oneOf"]] == [("Markt", 3), ("Park", 5)]
    assert question["votersCount"] == 8 and question["endTime"] == "2026-11-26T14:28:40Z"
