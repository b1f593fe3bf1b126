"""convert/collection: the chronological outbox out; collections and pages in."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from fedserver.activitypub import vocab
from fedserver.activitypub.convert.collection import (
    CollectionContents, parse_collection, render_collection, render_collection_page,
)
from fedserver.activitypub.errors import MalformedObject
from fedserver.activitypub.shapes import Collection, CollectionPage

FIXTURES = Path(__file__).parents[2] / "fixtures"
OUTBOX = "https://moers.test/users/alice/outbox"
CREATE = {"@context": vocab.AS_CONTEXT, "id": "https://moers.test/a/1", "type": "Create",
          "actor": "https://moers.test/users/alice", "object": "https://moers.test/n/1"}


def page() -> CollectionPage:
    return CollectionPage(ap_id=f"{OUTBOX}?page=true", part_of=OUTBOX, items=(CREATE, "https://moers.test/a/0"),
                          next=f"{OUTBOX}?page=true&max_id=1", prev=f"{OUTBOX}?page=true&min_id=2")


def test_render_collection_summary() -> None:
    doc = render_collection(Collection(ap_id=OUTBOX, total_items=2, first=f"{OUTBOX}?page=true",
                                       last=f"{OUTBOX}?page=true&min_id=0"))
    assert doc == {"@context": vocab.AS_CONTEXT, "id": OUTBOX, "type": "OrderedCollection", "totalItems": 2,
                   "first": f"{OUTBOX}?page=true", "last": f"{OUTBOX}?page=true&min_id=0"}


def test_render_collection_with_embedded_first_page() -> None:
    doc = render_collection(Collection(ap_id=OUTBOX, total_items=2, first=page()))
    assert doc["first"]["type"] == "OrderedCollectionPage" and "@context" not in doc["first"]


def test_render_page_strips_item_contexts() -> None:
    doc = render_collection_page(page())
    assert doc["@context"] == vocab.AS_CONTEXT
    assert doc["orderedItems"][0] == {k: v for k, v in CREATE.items() if k != "@context"}
    assert doc["partOf"] == OUTBOX and doc["next"].endswith("max_id=1")


def test_page_round_trips_through_parse() -> None:
    parsed = parse_collection(render_collection_page(page()))
    assert parsed.items[1] == "https://moers.test/a/0"
    assert parsed.next_page == f"{OUTBOX}?page=true&max_id=1"


def test_parse_collection_with_first_as_iri_points_at_it() -> None:
    parsed = parse_collection({"id": OUTBOX, "type": "OrderedCollection", "totalItems": 7, "first": f"{OUTBOX}?page=1"})
    assert parsed == CollectionContents(ap_id=OUTBOX, total_items=7, items=(), next_page=f"{OUTBOX}?page=1")


def test_parse_mastodon_replies_with_embedded_first_page() -> None:
    note = json.loads((FIXTURES / "mastodon/note_public.json").read_text(encoding="utf-8"))
    parsed = parse_collection(note["replies"])
    assert parsed.items == () and parsed.total_items is None
    assert parsed.next_page is not None and parsed.next_page.endswith("page=true")


def test_parse_plain_collection_items() -> None:
    parsed = parse_collection({"type": "Collection", "items": ["https://a.test/1", {"id": "https://a.test/2"}]})
    assert parsed.items == ("https://a.test/1", {"id": "https://a.test/2"})


def test_parse_rejects_non_collection() -> None:
    with pytest.raises(MalformedObject, match="^type: "):
        parse_collection({"type": "Note"})


def test_render_page_hoists_item_contexts() -> None:
    item = {"@context": [vocab.AS_CONTEXT, {"sensitive": "as:sensitive"}], "id": "https://moers.test/a/2",
            "type": "Create"}
    doc = render_collection_page(CollectionPage(ap_id=f"{OUTBOX}?page=true", part_of=OUTBOX, items=(item,)))
    assert doc["@context"] == [vocab.AS_CONTEXT, {"sensitive": "as:sensitive"}]
    assert "@context" not in doc["orderedItems"][0]
