"""vocab: the Public collection in every spelling, and the type sets."""
from __future__ import annotations

import pytest

from fedserver.activitypub import vocab


@pytest.mark.parametrize("iri", [vocab.PUBLIC, "as:Public", "Public"])
def test_is_public_accepts_every_spelling(iri: str) -> None:
    assert vocab.is_public(iri)


@pytest.mark.parametrize("iri", ["https://moers.test/users/alice/followers", "", None, 3, "public"])
def test_is_public_rejects_anything_else(iri: object) -> None:
    assert not vocab.is_public(iri)


def test_type_sets_hold_what_the_brief_names() -> None:
    assert vocab.POST_TYPES == {"Note", "Article", "Page", "Question", "Event", "Video", "Audio", "Image"}
    assert vocab.ACTOR_TYPES == {"Person", "Group", "Organization", "Service", "Application"}
    assert not vocab.ACTOR_TYPES & vocab.POST_TYPES


def test_media_types_are_exact() -> None:
    assert vocab.ACTIVITY_JSON == "application/activity+json"
    assert vocab.LD_JSON_AS2 == 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    assert vocab.JRD_JSON == "application/jrd+json"
