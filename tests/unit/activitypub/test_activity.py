"""convert/activity: the envelope, with embedded objects and extra keys."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from fedserver.activitypub import vocab
from fedserver.activitypub.convert.activity import parse_activity, render_activity
from fedserver.activitypub.convert.note import NOTE_CONTEXT, render_note
from fedserver.activitypub.errors import MalformedObject
from fedserver.activitypub.shapes import Activity, Note

ALICE = "https://moers.test/users/alice"
NOTE = Note(ap_id=f"{ALICE}/statuses/1", attributed_to=ALICE, content_html="<p>Hi</p>",
            published=datetime(2026, 11, 25, 14, 28, 40, tzinfo=timezone.utc), to=(vocab.PUBLIC,))


def create(**changes: object) -> Activity:
    fields: dict[str, object] = dict(
        ap_id=f"{ALICE}/statuses/1/activity", type="Create", actor=ALICE, object=render_note(NOTE),
        to=(vocab.PUBLIC,), cc=(f"{ALICE}/followers",), published=NOTE.published,
    )
    fields.update(changes)
    return Activity(**fields)  # type: ignore[arg-type]


def test_render_hoists_embedded_context() -> None:
    doc = render_activity(create())
    assert doc["@context"] == NOTE_CONTEXT
    assert "@context" not in doc["object"]
    assert doc["object"]["id"] == NOTE.ap_id


def test_render_with_iri_object_has_plain_context() -> None:
    doc = render_activity(Activity(ap_id="https://moers.test/likes/1", type="Like", actor=ALICE,
                                   object="https://solingen.test/n/1"))
    assert doc == {"@context": [vocab.AS_CONTEXT], "id": "https://moers.test/likes/1", "type": "Like",
                   "actor": ALICE, "object": "https://solingen.test/n/1"}


def test_render_extra_keys_never_replace_core_ones() -> None:
    doc = render_activity(create(extra={"content": "❤", "actor": "https://evil.test/u"}))
    assert doc["content"] == "❤" and doc["actor"] == ALICE


def test_render_then_parse_round_trips() -> None:
    activity = create(target="https://moers.test/c/featured", audience="https://moers.test/groups/g",
                      extra={"signature": {"type": "RsaSignature2017"}})
    parsed = parse_activity(render_activity(activity))
    assert parsed.ap_id == activity.ap_id and parsed.type == "Create" and parsed.actor == ALICE
    assert parsed.to == activity.to and parsed.cc == activity.cc and parsed.published == activity.published
    assert parsed.target == activity.target and parsed.audience == activity.audience
    assert parsed.extra == {"signature": {"type": "RsaSignature2017"}}
    assert isinstance(parsed.object, dict) and parsed.object["content"] == "<p>Hi</p>"


def test_parse_embedded_actor_object() -> None:
    parsed = parse_activity({"id": "https://a.test/1", "type": "Follow", "actor": {"id": ALICE, "type": "Person"},
                             "object": "https://b.test/u/bob"})
    assert parsed.actor == ALICE and parsed.object == "https://b.test/u/bob"


@pytest.mark.parametrize("field", ["id", "type", "actor", "object"])
def test_parse_missing_required_field_names_it(field: str) -> None:
    doc = render_activity(create())
    del doc[field]
    with pytest.raises(MalformedObject) as excinfo:
        parse_activity(doc)
    assert excinfo.value.field == field
