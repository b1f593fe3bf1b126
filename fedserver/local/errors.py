"""The few ways a local rule says no; adapters map them to HTTP statuses and messages."""
from __future__ import annotations


class LocalError(Exception):
    """Base of every refusal a service gives; `str(error)` is a message for a person."""


class NotFound(LocalError):
    """The thing does not exist, or the asker may not know that it does (404)."""


class NotAllowed(LocalError):
    """The asker may not do this (403); `code` names the rule, so that the web UI can say it in the page's
    language (webui/messages.py), e.g. GROUP_STAFF_ONLY."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class Invalid(LocalError):
    """Input breaks a rule (422); `field` and `code` feed Mastodon's error details (ERR_TAKEN ...)."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
