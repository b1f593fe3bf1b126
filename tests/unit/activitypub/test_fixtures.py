"""Every real-world actor and post in tests/fixtures/ parses (DESIGN.md, Tests).

Files are picked by name: actor*/group* are actors, note*/page*/event* are posts; other
fixtures (activities, keys) belong to other tests.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from fedserver.activitypub import jsonld
from fedserver.activitypub.convert.actor import parse_actor
from fedserver.activitypub.convert.note import parse_note

FIXTURES = Path(__file__).parents[2] / "fixtures"
ACTOR_KINDS = ("actor", "group")
POST_KINDS = ("note", "page", "event")


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


def test_every_fixture_is_listed_in_sources() -> None:
    sources = (FIXTURES / "SOURCES.md").read_text(encoding="utf-8")
    for path in _files(ACTOR_KINDS + POST_KINDS):
        assert _id(path) in sources, f"{_id(path)} missing from tests/fixtures/SOURCES.md"
