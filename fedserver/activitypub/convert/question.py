"""The poll part of a Question (Mastodon's shape: oneOf/anyOf Notes with replies.totalItems)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedserver.activitypub import dates, extract
from fedserver.activitypub.shapes import Poll, PollOption


def parse_poll(doc: Mapping[str, Any]) -> Poll | None:
    """The poll of a Question, or None when the document has no choices."""
    multiple = "anyOf" in doc and "oneOf" not in doc
    choices = extract.as_list(doc.get("anyOf" if multiple else "oneOf"))
    options = tuple(_option(choice) for choice in choices if isinstance(choice, Mapping))
    if not options:
        return None
    voters = doc.get("votersCount")
    return Poll(options=tuple(option for option in options if option.title), multiple=multiple,
                end_time=dates.parse(doc, "endTime"), closed=dates.parse(doc, "closed"),
                voters_count=voters if isinstance(voters, int) and voters >= 0 else None)


def render_poll(poll: Poll) -> dict[str, Any]:
    """The keys a Question adds to a Note (Mastodon's NoteSerializer)."""
    doc: dict[str, Any] = {
        "anyOf" if poll.multiple else "oneOf": [
            {"type": "Note", "name": option.title, "replies": {"type": "Collection", "totalItems": option.votes}}
            for option in poll.options],
        "endTime": dates.format(poll.end_time) if poll.end_time else None,
        "closed": dates.format(poll.closed) if poll.closed else None,
        "votersCount": poll.voters_count,
    }
    return {key: value for key, value in doc.items() if value is not None}


def _option(choice: Mapping[str, Any]) -> PollOption:
    name = extract.text_and_language(choice, "name")[0] or ""
    replies = choice.get("replies")
    total = replies.get("totalItems") if isinstance(replies, Mapping) else None
    return PollOption(title=name[:255], votes=total if isinstance(total, int) and total >= 0 else 0)
