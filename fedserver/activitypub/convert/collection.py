"""OrderedCollection and its pages: the chronological outbox, followers, replies.

We write Mastodon's outbox shape (tests/golden/outbox_page.json); we read Collection,
OrderedCollection and their pages, with "first" embedded or as an IRI (fixtures/mastodon).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedserver.activitypub import extract, jsonld, vocab
from fedserver.activitypub.errors import MalformedObject
from fedserver.activitypub.shapes import Collection, CollectionPage


@dataclass(frozen=True)
class CollectionContents:
    """What a fetched collection or page holds: its size, its items, where more items are."""

    ap_id: str | None
    total_items: int | None
    items: tuple[str | dict[str, object], ...]
    next_page: str | None = None


def render_collection(collection: Collection) -> dict[str, Any]:
    """Write an OrderedCollection summary: totalItems and links to its first and last page."""
    first: Any = collection.first
    if isinstance(first, CollectionPage):
        first = _page_body(first)
    doc: dict[str, Any] = {
        "@context": vocab.AS_CONTEXT, "id": collection.ap_id,
        "type": vocab.ORDERED_COLLECTION, "totalItems": collection.total_items,
        "first": first, "last": collection.last,
    }
    return {key: value for key, value in doc.items() if value is not None}


def render_collection_page(page: CollectionPage) -> dict[str, Any]:
    """Write one OrderedCollectionPage, newest item first, with its next and prev links.

    Embedded items lose their own @context; their terms move to the page's, as in
    Mastodon's outbox (tests/golden/outbox_page.json).
    """
    context = jsonld.merge_contexts(
        item["@context"] for item in page.items if isinstance(item, dict) and "@context" in item
    )
    return {"@context": context if len(context) > 1 else vocab.AS_CONTEXT, **_page_body(page)}


def parse_collection(doc: Mapping[str, Any]) -> CollectionContents:
    """Read a collection or page; items come from items/orderedItems or an embedded first page."""
    doc_type = extract.type_of(doc)
    if doc_type not in vocab.COLLECTION_TYPES:
        raise MalformedObject("type", f"{doc_type!r} is not a collection type")
    total = doc.get("totalItems")
    total_items = total if isinstance(total, int) and not isinstance(total, bool) else None
    items = _items(doc)
    next_page = extract.id_of(doc.get("next"))
    first = doc.get("first")
    if isinstance(first, Mapping):  # Mastodon embeds the first page of replies
        items, next_page = items + _items(first), extract.id_of(first.get("next"))
    elif not items and next_page is None:
        next_page = extract.id_of(first)  # only a link to the first page: fetch it next
    ap_id = doc.get("id")
    return CollectionContents(
        ap_id=ap_id if isinstance(ap_id, str) else None, total_items=total_items,
        items=items, next_page=next_page,
    )


def _page_body(page: CollectionPage) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": page.ap_id, "type": vocab.ORDERED_COLLECTION_PAGE,
        "next": page.next, "prev": page.prev, "partOf": page.part_of,
        # Embedded items are rendered documents; their own @context belongs to the page.
        "orderedItems": [_without_context(item) for item in page.items],
    }
    return {key: value for key, value in doc.items() if value is not None}


def _without_context(item: str | dict[str, object]) -> str | dict[str, object]:
    if isinstance(item, dict):
        return {key: value for key, value in item.items() if key != "@context"}
    return item


def _items(doc: Mapping[str, Any]) -> tuple[str | dict[str, object], ...]:
    values = extract.as_list(doc.get("orderedItems", doc.get("items")))
    return tuple(
        item if isinstance(item, str) else dict(item)
        for item in values if isinstance(item, (str, Mapping))
    )
