"""convert/tombstone: what is left of a deleted object."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from fedserver.activitypub import vocab
from fedserver.activitypub.convert.tombstone import parse_tombstone, render_tombstone
from fedserver.activitypub.errors import MalformedObject
from fedserver.activitypub.shapes import Tombstone

GONE = Tombstone(ap_id="https://moers.test/users/alice/statuses/1", former_type="Note",
                 deleted=datetime(2026, 11, 25, 14, 28, 40, tzinfo=timezone.utc))


def test_render_tombstone() -> None:
    assert render_tombstone(GONE) == {"@context": vocab.AS_CONTEXT, "id": GONE.ap_id, "type": "Tombstone",
                                      "formerType": "Note", "deleted": "2026-11-25T14:28:40Z"}
    assert render_tombstone(Tombstone(ap_id=GONE.ap_id), context=False) == {"id": GONE.ap_id, "type": "Tombstone"}


@pytest.mark.parametrize("tombstone", [GONE, Tombstone(ap_id=GONE.ap_id)])
def test_round_trip(tombstone: Tombstone) -> None:
    assert parse_tombstone(render_tombstone(tombstone)) == tombstone


def test_parse_rejects_other_types_and_missing_id() -> None:
    with pytest.raises(MalformedObject, match="^type: "):
        parse_tombstone({"id": GONE.ap_id, "type": "Note"})
    with pytest.raises(MalformedObject, match="^id: "):
        parse_tombstone({"type": "Tombstone"})
