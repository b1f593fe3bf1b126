"""OAuth scopes as Mastodon defines them (docs: api/oauth-scopes), and which grants cover which."""
from __future__ import annotations

from collections.abc import Iterable

from fedserver.local.errors import Invalid

_GRANULAR = {
    "read": ("accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes",
             "notifications", "search", "statuses"),
    "write": ("accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows", "lists",
              "media", "mutes", "notifications", "reports", "statuses"),
}
# The deprecated `follow` scope covers these (Mastodon keeps accepting it; Mastodon.py asks for it).
_FOLLOW = frozenset({"read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"})
KNOWN = frozenset(
    {"read", "write", "follow", "push", "profile", "admin:read", "admin:write"}
    | {f"{group}:{name}" for group, names in _GRANULAR.items() for name in names}
)


def normalise_scopes(value: str) -> str:
    """Space- or plus-separated scopes, de-duplicated in order; raises Invalid for unknown ones."""
    items = [item for item in value.replace("+", " ").replace(",", " ").split() if item]
    unknown = [item for item in items if item not in KNOWN]
    if unknown:
        raise Invalid("scopes", "ERR_INVALID", f"unknown scope {unknown[0]!r}")
    return " ".join(dict.fromkeys(items)) or "read"


def grants(granted: Iterable[str], required: str) -> bool:
    """Whether a token with `granted` scopes may do what needs `required` (e.g. read:statuses)."""
    have = set(granted)
    if required in have:
        return True
    parts = required.split(":")
    # read covers read:statuses; admin:read covers admin:read:accounts.
    if any(":".join(parts[:end]) in have for end in range(1, len(parts))):
        return True
    return "follow" in have and required in _FOLLOW
