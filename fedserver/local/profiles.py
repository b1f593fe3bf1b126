"""Profiles: changing what an account shows, and telling every follower's server (Update{Actor})."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub import vocab
from fedserver.activitypub.convert.actor import render_actor
from fedserver.ids import new_id
from fedserver.local import follows, wire
from fedserver.local.errors import Invalid
from fedserver.local.models.actors import Actor
from fedserver.local.text import render_plain
from fedserver.local.urls import LocalUrls
from fedserver.outbox import activities, fanout
from fedserver.outbox.publish import publish

MAX_DISPLAY_NAME = 30  # Mastodon's limits (app/models/account.rb)
MAX_NOTE = 500
MAX_FIELDS = 4  # Mastodon's DEFAULT_FIELDS_SIZE; names and values up to 255 characters each
MAX_FIELD_TEXT = 255


async def update(session: AsyncSession, urls: LocalUrls, actor: Actor, *, now: datetime,
                 display_name: str | None = None, note: str | None = None,
                 manually_approves_followers: bool | None = None, is_discoverable: bool | None = None,
                 is_bot: bool | None = None, is_indexable: bool | None = None,
                 fields: list[tuple[str, str]] | None = None, icon_url: str | None = None,
                 image_url: str | None = None) -> Actor:
    """Change the given profile fields of a local actor and send Update to its followers' servers."""
    if display_name is not None:
        if len(display_name) > MAX_DISPLAY_NAME:
            raise Invalid("display_name", "ERR_TOO_LONG", f"a display name has at most {MAX_DISPLAY_NAME} characters")
        actor.display_name = display_name.strip()
    if note is not None:
        if len(note) > MAX_NOTE:
            raise Invalid("note", "ERR_TOO_LONG", f"a bio has at most {MAX_NOTE} characters")
        actor.summary_html = render_plain(note, lambda user, host: None, urls.tag).html if note.strip() else ""
    if fields is not None:
        actor.fields_json = json.dumps(_fields(urls, fields), ensure_ascii=False)
    for name, value in (("manually_approves_followers", manually_approves_followers),
                        ("is_discoverable", is_discoverable), ("is_bot", is_bot), ("is_indexable", is_indexable),
                        ("icon_url", icon_url), ("image_url", image_url)):
        if value is not None:
            setattr(actor, name, value)
    actor.updated_at = now
    await session.flush()
    document = render_actor(await wire.actor_shape(session, actor))
    inboxes = fanout.inbox_urls(await follows.remote_inboxes_of_followers(session, actor.id))
    await publish(session, activities.build_actor_update(urls.activity(actor.username, new_id()), document,
                                                         to=(vocab.PUBLIC,)), inbox_urls=inboxes)
    return actor


def _fields(urls: LocalUrls, fields: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Profile fields as stored: the typed value (for editing) and its HTML (links made clickable)."""
    kept = [(name.strip(), value.strip()) for name, value in fields if name.strip() or value.strip()]
    if len(kept) > MAX_FIELDS:
        raise Invalid("fields_attributes", "ERR_TOO_LONG", f"a profile has at most {MAX_FIELDS} fields")
    stored = []
    for name, value in kept:
        if len(name) > MAX_FIELD_TEXT or len(value) > MAX_FIELD_TEXT:
            raise Invalid("fields_attributes", "ERR_TOO_LONG",
                          f"field names and values have at most {MAX_FIELD_TEXT} characters")
        html = render_plain(" ".join(value.split()), lambda user, host: None, urls.tag).html if value else ""
        # One line, so render_plain gives one paragraph; Mastodon sends field values without <p>.
        stored.append({"name": name, "value": value, "value_html": html.removeprefix("<p>").removesuffix("</p>")})
    return stored
