"""Tombstone <-> JSON: what is left of a deleted object (Activity Vocabulary, "Tombstone")."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedserver.activitypub import dates, extract, vocab
from fedserver.activitypub.errors import MalformedObject
from fedserver.activitypub.shapes import Tombstone


def render_tombstone(tombstone: Tombstone, *, context: bool = True) -> dict[str, Any]:
    """Write a Tombstone with formerType and deleted when known; context=False to embed it."""
    doc: dict[str, Any] = {
        "@context": vocab.AS_CONTEXT if context else None,
        "id": tombstone.ap_id, "type": vocab.TOMBSTONE,
        "formerType": tombstone.former_type,
        "deleted": dates.format(tombstone.deleted) if tombstone.deleted else None,
    }
    return {key: value for key, value in doc.items() if value is not None}


def parse_tombstone(doc: Mapping[str, Any]) -> Tombstone:
    """Read a Tombstone; raises MalformedObject for a missing id or another type."""
    ap_id = extract.require_id(doc)
    doc_type = extract.type_of(doc)
    if doc_type != vocab.TOMBSTONE:
        raise MalformedObject("type", f"expected Tombstone, got {doc_type!r}")
    former_type = extract.first(doc.get("formerType"))
    return Tombstone(
        ap_id=ap_id,
        former_type=former_type if isinstance(former_type, str) else None,
        deleted=dates.parse(doc, "deleted"),
    )
