"""ScheduledStatus entity (docs.joinmastodon.org/entities/ScheduledStatus)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fedserver.api.mastodon.entities.media import render_media
from fedserver.api.mastodon.entities.status import timestamp
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.scheduling import ScheduledStatus
from fedserver.local.scheduled_statuses import Draft
from fedserver.local.urls import LocalUrls


def render_scheduled_status(urls: LocalUrls, row: ScheduledStatus, media: Sequence[MediaAttachment]) -> dict[str, Any]:
    """The post as it will be made, in the params shape Mastodon keeps (scheduled_at and idempotency are
    null inside params, as Mastodon clears them there)."""
    draft = Draft.from_json(row.params)
    poll = None if draft.poll is None else {"options": list(draft.poll.options),
                                            "expires_in": str(draft.poll.expires_in),
                                            "multiple": draft.poll.multiple, "hide_totals": False}
    return {
        "id": str(row.id), "scheduled_at": timestamp(row.scheduled_at),
        "params": {
            "text": draft.text, "poll": poll, "media_ids": [str(item.id) for item in media] or None,
            "sensitive": draft.is_sensitive, "spoiler_text": draft.spoiler_text or None,
            "visibility": draft.visibility, "language": draft.language,
            "in_reply_to_id": str(draft.in_reply_to_id) if draft.in_reply_to_id is not None else None,
            "application_id": draft.application_id, "scheduled_at": None, "idempotency": None,
            "with_rate_limit": False,
        },
        "media_attachments": [render_media(urls, item) for item in media],
    }
