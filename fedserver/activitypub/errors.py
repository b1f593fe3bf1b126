"""Typed errors of the wire layer; routes map them to status codes (STYLE.md, section 5)."""
from __future__ import annotations


class MalformedObject(ValueError):
    """A document we received does not have the shape we need; the message names the field."""

    def __init__(self, field: str, reason: str = "missing") -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class OriginMismatch(ValueError):
    """Key, actor and object do not share one origin (scheme + host + port, DESIGN.md)."""


class NotAllowed(PermissionError):
    """The sender may not do what the document asks."""


class PeerUnavailable(ConnectionError):
    """The other server could not be reached or answered with an error worth retrying."""
