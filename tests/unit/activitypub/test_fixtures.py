"""Every real-world actor and post in tests/fixtures/ parses (DESIGN.md, Tests).

Files are picked by name: actor*/group* are actors, note*/page*/event* are posts, and
create*/update*/delete*/follow*/accept*/undo*/like*/announce*/block*/emojireact* are activities
(tests/federation/test_real_world_payloads.py delivers those); keys belong to other tests.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from fedserver.activitypub import extract, jsonld, vocab
from fedserver.activitypub.convert.activity import parse_activity
from fedserver.activitypub.convert.actor import parse_actor
from fedserver.activitypub.convert.note import parse_note

FIXTURES = Path(__file__).parents[2] / "fixtures"
ACTOR_KINDS = ("actor", "group")
POST_KINDS = ("note", "page", "event")
ACTIVITY_KINDS = ("create", "update", "delete", "follow", "accept", "undo", "like", "announce", "block",
                  "emojireact")


def _kind(path: Path) -> str:
    return path.stem.split("_")[0]


def _files(kinds: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*/*.json") if _kind(p) in kinds)


def _id(path: Path) -> str:
    return str(path.relative_to(FIXTURES))


@pytest.mark.parametrize("path", _files(ACTOR_KINDS), ids=_id)
def test_actor_fixture_parses(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    actor = parse_actor(jsonld.normalise(doc) if jsonld.needs_normalising(doc) else doc)
    assert actor.ap_id == doc["id"] and actor.inbox and actor.preferred_username
    assert actor.public_key is not None and "BEGIN PUBLIC KEY" in actor.public_key.pem


@pytest.mark.parametrize("path", _files(POST_KINDS), ids=_id)
def test_post_fixture_parses(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    post = parse_note(jsonld.normalise(doc) if jsonld.needs_normalising(doc) else doc)
    assert post.ap_id == doc["id"] and post.attributed_to.startswith("http")
    assert post.published.tzinfo is not None and (post.to or post.cc)


@pytest.mark.parametrize("path", _files(ACTIVITY_KINDS), ids=_id)
def test_activity_fixture_parses(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    activity = parse_activity(jsonld.normalise(doc) if jsonld.needs_normalising(doc) else doc)
    # Extension types (litepub:EmojiReact) may come back as a compact or full IRI after normalising.
    assert activity.ap_id == doc["id"] and activity.type.endswith(doc["type"])
    assert activity.actor == extract.id_of(doc["actor"])
    _parses_embedded(activity.object)


def _parses_embedded(embedded: object) -> None:
    """An embedded post, actor or activity parses too (Announce{Create{Page}} nests two levels)."""
    if not isinstance(embedded, dict):
        return
    kind = extract.type_of(embedded)
    if kind in vocab.POST_TYPES:
        assert parse_note(embedded).ap_id == embedded["id"]
    elif kind in vocab.ACTOR_TYPES:
        assert parse_actor(embedded).ap_id == embedded["id"]
    elif kind in vocab.ACTIVITY_TYPES:
        _parses_embedded(parse_activity(embedded).object)


def test_every_fixture_is_listed_in_sources() -> None:
    sources = (FIXTURES / "SOURCES.md").read_text(encoding="utf-8")
    for path in _files(ACTOR_KINDS + POST_KINDS + ACTIVITY_KINDS):
        assert _id(path) in sources, f"{_id(path)} missing from tests/fixtures/SOURCES.md"
