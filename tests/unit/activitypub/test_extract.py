"""extract: one reader per awkward property shape."""
from __future__ import annotations

import pytest

from fedserver.activitypub import extract
from fedserver.activitypub.errors import MalformedObject

ALICE = "https://moers.test/users/alice"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(ALICE, ALICE), ({"id": ALICE, "type": "Person"}, ALICE), ([ALICE, "x"], ALICE),
     ([{"id": ALICE}], ALICE), (None, None), ({"type": "Person"}, None), ("", None), (3, None)],
)
def test_id_of_reads_iri_or_embedded_object(value: object, expected: str | None) -> None:
    assert extract.id_of(value) == expected


def test_require_id_raises_naming_id() -> None:
    assert extract.require_id({"id": ALICE}) == ALICE
    with pytest.raises(MalformedObject, match="^id: missing$"):
        extract.require_id({"type": "Note"})


def test_as_list_and_first() -> None:
    assert extract.as_list(None) == []
    assert extract.as_list("a") == ["a"]
    assert extract.as_list(["a", "b"]) == ["a", "b"]
    assert extract.first(["a", "b"]) == "a"
    assert extract.first({"k": 1}) == {"k": 1}
    assert extract.first([]) is None


def test_text_and_language_prefers_plain_value_and_finds_its_language() -> None:
    doc = {"content": "<p>Hallo</p>", "contentMap": {"de": "<p>Hallo</p>", "en": "<p>Hello</p>"}}
    assert extract.text_and_language(doc, "content") == ("<p>Hallo</p>", "de")


def test_text_and_language_falls_back_to_the_map() -> None:
    assert extract.text_and_language({"nameMap": {"fr": "Fête"}}, "name") == ("Fête", "fr")


def test_text_and_language_without_language() -> None:
    assert extract.text_and_language({"summary": "cw"}, "summary") == ("cw", None)
    assert extract.text_and_language({}, "summary") == (None, None)


def test_text_and_language_treats_und_as_unknown() -> None:
    assert extract.text_and_language({"contentMap": {"und": "x"}}, "content") == ("x", None)
    assert extract.text_and_language({"content": {"@value": "x", "@language": "nl"}}, "content") == ("x", "nl")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://a.test/@x", "https://a.test/@x"),
        ({"type": "Link", "href": "https://a.test/1"}, "https://a.test/1"),
        ([{"type": "Link", "mediaType": "application/x-mpegURL", "href": "https://a.test/m3u8"},
          {"type": "Link", "mediaType": "text/html", "href": "https://a.test/watch"}], "https://a.test/watch"),
        (["https://a.test/1", "https://a.test/2"], "https://a.test/1"),
        ({"type": "Image", "url": {"type": "Link", "href": "https://a.test/i.png"}}, "https://a.test/i.png"),
        (None, None),
        ([], None),
    ],
)
def test_first_href_reads_every_url_shape(value: object, expected: str | None) -> None:
    assert extract.first_href(value) == expected


def test_iri_list_skips_entries_without_iri() -> None:
    assert extract.iri_list([ALICE, {"id": "https://b.test/u"}, {"type": "Person"}, None]) == (
        ALICE, "https://b.test/u")
    assert extract.iri_list(ALICE) == (ALICE,)
    assert extract.iri_list(None) == ()


def test_type_of_takes_the_first_type() -> None:
    assert extract.type_of({"type": ["Person", "Service"]}) == "Person"
    assert extract.type_of({}) is None
