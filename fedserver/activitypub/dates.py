"""xsd:dateTime as AS2 uses it (Activity Vocabulary 4, "published"), always timezone-aware UTC."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Literal, overload

from fedserver.activitypub.errors import MalformedObject

# xsd:dateTime: date 'T' time, optional fraction of any length, optional 'Z' or +hh:mm.
_DATETIME = re.compile(
    r"^(?P<main>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?$"
)


@overload
def parse(doc: Mapping[str, Any], key: str, required: Literal[True]) -> datetime: ...
@overload
def parse(doc: Mapping[str, Any], key: str, required: bool = False) -> datetime | None: ...


def parse(doc: Mapping[str, Any], key: str, required: bool = False) -> datetime | None:
    """Read doc[key] as an xsd:dateTime in UTC; raises MalformedObject naming the key."""
    value = doc.get(key)
    if value is None:
        if required:
            raise MalformedObject(key)
        return None
    if not isinstance(value, str):
        raise MalformedObject(key, f"expected an xsd:dateTime string, got {type(value).__name__}")
    match = _DATETIME.match(value.strip())
    if match is None:
        raise MalformedObject(key, f"not an xsd:dateTime: {value[:40]!r}")
    # Python keeps microseconds; Lemmy sends 6 digits, some servers 9 (nanoseconds).
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    zone = match["zone"] or "Z"  # xsd allows no zone; like Mastodon we read it as UTC
    try:
        parsed = datetime.fromisoformat(f"{match['main']}.{fraction}{_offset(zone)}")
    except ValueError as exc:  # e.g. month 13
        raise MalformedObject(key, f"not a valid date: {value[:40]!r}") from exc
    return parsed.astimezone(timezone.utc)


def format(dt: datetime) -> str:  # noqa: A001 - dates.format reads well at call sites
    """Write a datetime the way Mastodon does: UTC, seconds precision, 'Z' suffix."""
    if dt.tzinfo is None:
        raise ValueError("dates.format needs a timezone-aware datetime")
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _offset(zone: str) -> str:
    if zone == "Z":
        return "+00:00"
    return zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
