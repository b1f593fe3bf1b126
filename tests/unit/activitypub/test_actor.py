"""convert/actor: Mastodon 4.x actor documents out, every server's actors in."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from fedserver.activitypub import vocab
from fedserver.activitypub.convert.actor import parse_actor, render_actor
from fedserver.activitypub.errors import MalformedObject
from fedserver.activitypub.shapes import Actor, Image, PropertyValue, PublicKey

FIXTURES = Path(__file__).parents[2] / "fixtures"
BASE = "https://moers.test/users/alice"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def alice(**changes: Any) -> Actor:
    fields: dict[str, Any] = dict(
        ap_id=BASE, type="Person", preferred_username="alice", inbox=f"{BASE}/inbox",
        outbox=f"{BASE}/outbox", followers=f"{BASE}/followers", following=f"{BASE}/following",
        featured=f"{BASE}/collections/featured", shared_inbox="https://moers.test/inbox",
        name="Alice", summary_html="<p>Moers</p>", url="https://moers.test/@alice",
        icon=Image(url="https://moers.test/a.png", media_type="image/png"),
        image=Image(url="https://moers.test/h.jpg"),
        public_key=PublicKey(id=f"{BASE}#main-key", owner=BASE, pem="PEM"),
        manually_approves_followers=True, discoverable=True, indexable=True,
        published=datetime(2026, 1, 1, tzinfo=timezone.utc),
        fields=(PropertyValue(name="Web", value_html="<a href=\"https://moers.de\">moers.de</a>"),),
    )
    fields.update(changes)
    return Actor(**fields)


def test_render_actor_has_mastodon_context() -> None:
    context = render_actor(alice())["@context"]
    assert context[:2] == [vocab.AS_CONTEXT, vocab.SECURITY_CONTEXT]
    assert context[2]["featured"] == {"@id": "toot:featured", "@type": "@id"}
    assert context[2]["manuallyApprovesFollowers"] == "as:manuallyApprovesFollowers"
    assert context[2]["PropertyValue"] == "schema:PropertyValue"
    assert "postingRestrictedToMods" not in context[2]


def test_render_actor_writes_every_field() -> None:
    doc = render_actor(alice())
    assert doc["endpoints"] == {"sharedInbox": "https://moers.test/inbox"}
    assert doc["publicKey"] == {"id": f"{BASE}#main-key", "owner": BASE, "publicKeyPem": "PEM"}
    assert doc["icon"] == {"type": "Image", "mediaType": "image/png", "url": "https://moers.test/a.png"}
    assert doc["image"] == {"type": "Image", "url": "https://moers.test/h.jpg"}
    assert doc["attachment"] == [{"type": "PropertyValue", "name": "Web",
                                  "value": "<a href=\"https://moers.de\">moers.de</a>"}]
    assert doc["published"] == "2026-01-01T00:00:00Z"


def test_render_actor_leaves_out_none_but_keeps_booleans() -> None:
    doc = render_actor(Actor(ap_id=BASE, type="Person", preferred_username="alice", inbox=f"{BASE}/inbox"))
    assert set(doc) == {"@context", "id", "type", "inbox", "preferredUsername", "attachment",
                        "manuallyApprovesFollowers", "discoverable", "indexable"}
    assert doc["manuallyApprovesFollowers"] is False and doc["indexable"] is False


def test_render_group_adds_lemmy_posting_restriction() -> None:
    doc = render_actor(alice(type="Group", posting_restricted_to_mods=True))
    assert doc["postingRestrictedToMods"] is True
    assert doc["@context"][2]["postingRestrictedToMods"] == "lemmy:postingRestrictedToMods"


@pytest.mark.parametrize("actor", [alice(), alice(type="Group", posting_restricted_to_mods=True),
                                   alice(icon=None, image=None, public_key=None, fields=())])
def test_render_then_parse_round_trips(actor: Actor) -> None:
    assert parse_actor(render_actor(actor)) == actor


def test_parse_mastodon_actor() -> None:
    actor = parse_actor(fixture("mastodon/actor_person.json"))
    assert actor.preferred_username == "felix"
    assert actor.shared_inbox == "https://mastodon.madrid/inbox"
    assert actor.fields[0].name == "Code"
    assert actor.public_key is not None and actor.public_key.id.endswith("#main-key")
    assert actor.icon == Image(
        url="https://mastodon.madrid/system/accounts/avatars/000/087/969/original/ffdd1c832b453bc9.jpg?1598972149",
        media_type="image/jpeg")


def test_parse_gotosocial_actor_without_endpoints() -> None:
    actor = parse_actor(fixture("gotosocial/actor.json"))
    assert actor.shared_inbox is None
    assert actor.discoverable is True


def test_parse_lemmy_group() -> None:
    actor = parse_actor(fixture("lemmy/group.json"))
    assert actor.type == "Group" and actor.posting_restricted_to_mods is False
    assert actor.published == datetime(2019, 6, 2, 16, 43, 50, 799554, tzinfo=timezone.utc)


def test_parse_public_key_list_prefers_the_actors_own() -> None:
    doc = render_actor(alice())
    doc["publicKey"] = [{"id": "https://x.test/k", "owner": "https://x.test/", "publicKeyPem": "OTHER"},
                        {"id": f"{BASE}#main-key", "owner": BASE, "publicKeyPem": "PEM"}]
    assert parse_actor(doc).public_key == PublicKey(id=f"{BASE}#main-key", owner=BASE, pem="PEM")


@pytest.mark.parametrize("icon", ["https://moers.test/a.png", [{"type": "Image", "url": "https://moers.test/a.png"}],
                                  {"type": "Image", "url": [{"type": "Link", "href": "https://moers.test/a.png"}]}])
def test_parse_icon_shapes(icon: object) -> None:
    doc = render_actor(alice())
    doc["icon"] = icon
    actor = parse_actor(doc)
    assert actor.icon is not None and actor.icon.url == "https://moers.test/a.png"


def test_parse_misskey_top_level_shared_inbox() -> None:
    doc = render_actor(alice(shared_inbox=None))
    doc["sharedInbox"] = "https://misskey.test/inbox"
    assert parse_actor(doc).shared_inbox == "https://misskey.test/inbox"


@pytest.mark.parametrize(("ap_id", "username"), [("https://lemmy.test/u/picard", "picard"),
                                                  ("https://lemmy.test/", "lemmy.test")])
def test_parse_without_preferred_username_falls_back(ap_id: str, username: str) -> None:
    doc = {"id": ap_id, "type": "Application", "inbox": f"{ap_id}inbox"}
    assert parse_actor(doc).preferred_username == username


@pytest.mark.parametrize("field", ["id", "type", "inbox"])
def test_parse_missing_required_field_names_it(field: str) -> None:
    doc = render_actor(alice())
    del doc[field]
    with pytest.raises(MalformedObject) as excinfo:
        parse_actor(doc)
    assert excinfo.value.field == field


def test_parse_rejects_non_actor_type() -> None:
    with pytest.raises(MalformedObject, match="type: 'Note' is not an actor type"):
        parse_actor({"id": BASE, "type": "Note", "inbox": f"{BASE}/inbox"})
