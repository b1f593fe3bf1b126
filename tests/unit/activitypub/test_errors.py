"""errors: the message names the field, and the types sort into the standard hierarchy."""
from __future__ import annotations

from fedserver.activitypub.errors import MalformedObject, NotAllowed, OriginMismatch, PeerUnavailable


def test_malformed_object_names_the_field() -> None:
    error = MalformedObject("attributedTo")
    assert str(error) == "attributedTo: missing"
    assert error.field == "attributedTo"
    assert isinstance(error, ValueError)


def test_malformed_object_carries_a_reason() -> None:
    assert str(MalformedObject("published", "not an xsd:dateTime")) == "published: not an xsd:dateTime"


def test_other_errors_are_distinct_types() -> None:
    assert issubclass(OriginMismatch, ValueError)
    assert issubclass(NotAllowed, PermissionError)
    assert issubclass(PeerUnavailable, ConnectionError)
