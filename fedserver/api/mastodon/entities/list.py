"""List entity (docs.joinmastodon.org/entities/List)."""
from __future__ import annotations

from typing import Any

from fedserver.local.models.clients import List


def render_list(owned: List) -> dict[str, Any]:
    return {"id": str(owned.id), "title": owned.title, "replies_policy": owned.replies_policy,
            "exclusive": owned.is_exclusive}
