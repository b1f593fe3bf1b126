"""Recipients -> inbox URLs: one delivery per shared inbox, not one per follower."""
from __future__ import annotations

from collections.abc import Iterable


def inbox_urls(recipients: Iterable[tuple[str, str | None]]) -> list[str]:
    """Each (inbox, shared_inbox) pair becomes its shared inbox when it has one; order kept, no repeats."""
    return list(dict.fromkeys(shared or inbox for inbox, shared in recipients))
