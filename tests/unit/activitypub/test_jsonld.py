"""jsonld: offline normalisation against the bundled contexts, and the fast-path test."""
from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld as pyld

from fedserver.activitypub import jsonld, vocab
from fedserver.activitypub.convert.actor import parse_actor
from fedserver.activitypub.convert.note import parse_note
from fedserver.activitypub.errors import MalformedObject

FIXTURES = Path(__file__).parents[2] / "fixtures"
CONTEXTS = Path(jsonld.__file__).parent / "contexts"
BOB = "https://solingen.test/users/bob"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any socket or any use of pyld's own (networked) loader fails the test."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("jsonld touched the network")
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    previous = pyld.get_document_loader()
    pyld.set_document_loader(refuse)
    yield
    pyld.set_document_loader(previous)


def test_bundled_contexts_are_served() -> None:
    for url in (vocab.AS_CONTEXT, vocab.SECURITY_CONTEXT, "https://w3id.org/identity/v1",
                "https://w3id.org/security/data-integrity/v1", "https://w3id.org/security/data-integrity/v2",
                "https://join-lemmy.org/context.json", "https://pleroma.test/schemas/litepub-0.1.jsonld"):
        document = jsonld.load_document(url)["document"]
        assert document["@context"], url


def test_unknown_context_is_empty_not_fetched() -> None:
    assert jsonld.load_document("https://unknown.test/context.jsonld")["document"] == {"@context": {}}


def test_every_bundled_file_is_a_valid_context_and_has_a_source() -> None:
    sources = (CONTEXTS / "SOURCES.md").read_text(encoding="utf-8")
    for path in CONTEXTS.glob("*.jsonld"):
        assert path.name in sources
        context = json.loads(path.read_text(encoding="utf-8"))["@context"]
        pyld.expand({"@context": context, "id": "https://a.test/1"}, {"documentLoader": jsonld.load_document})


@pytest.mark.parametrize("name", ["mastodon/actor_person.json", "mastodon/note_public.json", "misskey/note.json",
                                  "gotosocial/actor.json", "pleroma/actor.json", "lemmy/group.json", "lemmy/page.json"])
def test_familiar_contexts_take_the_fast_path(name: str) -> None:
    assert not jsonld.needs_normalising(fixture(name))


@pytest.mark.parametrize("context", [
    [vocab.AS_CONTEXT, "https://unknown.test/ns"],
    [vocab.AS_CONTEXT, "https://w3id.org/identity/v1"],  # rebinds name, url, image, Person
    [vocab.AS_CONTEXT, {"content": "http://example.org/secret"}],
    [vocab.AS_CONTEXT, {"ex": "http://example.org/", "to": {"@id": "ex:to", "@type": "@id"}}],
    [vocab.AS_CONTEXT, {"publicKeyPem": "http://example.org/pem"}],
    [vocab.AS_CONTEXT, None],
])
def test_remapping_contexts_need_normalising(context: Any) -> None:
    assert jsonld.needs_normalising({"@context": context, "id": "https://a.test/1"})


def test_plain_json_needs_no_normalising() -> None:
    assert not jsonld.needs_normalising({"id": "https://a.test/1", "type": "Note"})
    assert not jsonld.needs_normalising({"@context": [vocab.AS_CONTEXT, {"sensitive": "as:sensitive"}]})


@pytest.mark.parametrize(("name", "parse"), [
    ("mastodon/note_public.json", parse_note), ("mastodon/actor_person.json", parse_actor),
    ("misskey/note.json", parse_note), ("lemmy/page.json", parse_note), ("lemmy/group.json", parse_actor),
    ("pleroma/actor.json", parse_actor), ("gotosocial/actor.json", parse_actor),
    ("mobilizon/event.json", parse_note),
])
def test_normalising_familiar_documents_changes_nothing_we_read(name: str, parse: Any) -> None:
    doc = fixture(name)
    assert parse(jsonld.normalise(doc)) == parse(doc)


def test_normalise_reveals_a_rebound_term() -> None:
    doc = {"@context": [vocab.AS_CONTEXT, "https://w3id.org/identity/v1"], "id": BOB, "type": "Person",
           "name": "Bob", "inbox": f"{BOB}/inbox"}
    normalised = jsonld.normalise(doc)
    assert normalised["type"] == "http://schema.org/Person"
    assert "name" not in normalised and normalised["http://schema.org/name"] == "Bob"


def test_normalise_maps_remapped_keys_back_to_as2_terms() -> None:
    doc = {"@context": [vocab.AS_CONTEXT, {"text": "as:content", "sensitive": "as:sensitive"}],
           "id": "https://a.test/n/1", "type": "Note", "text": "<p>Hi</p>", "sensitive": True,
           "to": "as:Public"}
    normalised = jsonld.normalise(doc)
    assert normalised["content"] == "<p>Hi</p>" and normalised["sensitive"] is True
    assert normalised["to"] == vocab.PUBLIC


def test_normalise_keeps_undefined_terms_by_name() -> None:
    doc = {"@context": vocab.AS_CONTEXT, "id": "https://a.test/n/1", "type": "Hashtag", "whatever": 1}
    normalised = jsonld.normalise(doc)
    assert normalised["type"] == "Hashtag" and normalised["whatever"] == 1


def test_normalise_reads_lemmy_as_prefixed_terms() -> None:
    doc = fixture("lemmy/page.json")
    doc["sensitive"] = True
    assert jsonld.normalise(doc)["sensitive"] is True


def test_needs_normalising_is_cached_by_context_value() -> None:
    doc = fixture("mastodon/note_public.json")
    jsonld.needs_normalising(doc)
    hits = jsonld._context_remaps.cache_info().hits
    jsonld.needs_normalising(dict(doc, id="https://mastodon.madrid/other"))
    assert jsonld._context_remaps.cache_info().hits == hits + 1


def test_normalise_reports_broken_json_ld_as_malformed() -> None:
    with pytest.raises(MalformedObject, match="^@context: "):
        jsonld.normalise({"@context": [vocab.AS_CONTEXT, 42], "id": "https://a.test/1"})


def test_our_question_context_defines_every_term_a_strict_reader_needs() -> None:
    """A strict JSON-LD reader drops undefined terms: expanded, our Question keeps its voter count."""
    golden = json.loads((Path(__file__).parents[2] / "golden" / "update_question.json").read_text(encoding="utf-8"))
    question = {"@context": golden["@context"], **golden["object"]}
    expanded = pyld.expand(question, {"documentLoader": jsonld.load_document})
    assert expanded[0][vocab.TOOT + "votersCount"][0]["@value"] == question["votersCount"]
