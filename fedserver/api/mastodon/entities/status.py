"""Status entity (docs.joinmastodon.org/entities/Status): a page of statuses in a fixed number of queries."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.api.mastodon.entities import status_page
from fedserver.api.mastodon.entities.account import render_accounts_by_id
from fedserver.api.mastodon.entities.filter import apply_filters
from fedserver.api.mastodon.entities.media import render_media
from fedserver.api.mastodon.entities.poll import render_polls
from fedserver.local.models.actors import Actor
from fedserver.local.models.statuses import Status
from fedserver.local.urls import LocalUrls


async def render_statuses(session: AsyncSession, urls: LocalUrls, statuses: Sequence[Status],
                          viewer: Actor | None, viewer_account_id: int | None = None,
                          filter_context: str | None = None,
                          originals: Mapping[int, Status] | None = None) -> list[dict[str, Any]]:
    """Status entities in the given order; boosts carry their original in `reblog`; with a filter
    context (home, notifications, public, thread, account) the viewer's filters fill `filtered`.

    A page costs the same few queries however long it is (status_page): the boosted originals when there
    are boosts, the facts, the accounts, the media when some status has any, the polls when one is a poll.
    `originals`: boosted statuses the caller already holds (the timeline query reads them along)."""
    every: dict[int, Any] = {s.id: s for s in statuses} | dict(originals or {})  # Status objects or rows
    every.update(await status_page.originals(session, {s.reblog_of_id for s in statuses
                                                       if s.reblog_of_id and s.reblog_of_id not in every}))
    facts = await status_page.facts(session, list(every), viewer.id if viewer else None, viewer_account_id)
    people = {s.author_id for s in every.values()} | {a for ids in facts.mentioned.values() for a in ids}
    page = _Page(urls=urls, accounts=await render_accounts_by_id(session, urls, people), facts=facts,
                 media=await status_page.media(session, facts.with_media),
                 polls=await render_polls(session, list(every.values()), viewer))
    rendered = [page.render(status, every.get(status.reblog_of_id or -1)) for status in statuses]
    if filter_context is not None and viewer_account_id is not None and facts.has_filters:
        await apply_filters(session, viewer_account_id, filter_context, statuses, every, rendered)
    return rendered


async def render_status(session: AsyncSession, urls: LocalUrls, status: Status, viewer: Actor | None,
                        viewer_account_id: int | None = None) -> dict[str, Any]:
    return (await render_statuses(session, urls, [status], viewer, viewer_account_id))[0]


@dataclass
class _Page:
    """What the statuses of one page are rendered from; a status is an ORM Status or a row of its columns."""

    urls: LocalUrls
    accounts: dict[int, dict[str, Any]]
    facts: status_page.Facts
    media: dict[int, list[Any]]
    polls: dict[int, dict[str, Any]]

    def render(self, status: Any, original: Any | None) -> dict[str, Any]:
        if original is not None:  # a boost: its own id and time, the original inside
            entity = self._one(original)
            return {**self._one(status), "reblog": entity, "content": "", "media_attachments": [], "mentions": [],
                    "tags": [], "reblogged": entity["reblogged"], "favourited": entity["favourited"],
                    "bookmarked": entity["bookmarked"]}
        return self._one(status)

    def _one(self, status: Any) -> dict[str, Any]:
        facts, status_id = self.facts, status.id
        replies, reblogs, favourites = facts.counts
        liked, boosted, marked, pinned, muted = facts.viewer
        parent_author = facts.parent_authors.get(status_id)
        return {
            "id": str(status_id), "uri": status.ap_id, "url": status.url or status.ap_id,
            "account": self.accounts[status.author_id],
            "in_reply_to_id": str(status.in_reply_to_id) if status.in_reply_to_id else None,
            "in_reply_to_account_id": str(parent_author) if parent_author is not None else None,
            "reblog": None, "content": status.content_html, "created_at": _time(status.published_at),
            "edited_at": _time(status.edited_at) if status.edited_at else None, "emojis": [],
            "replies_count": replies.get(status_id, 0), "reblogs_count": reblogs.get(status_id, 0),
            "favourites_count": favourites.get(status_id, 0), "reblogged": status_id in boosted,
            "favourited": status_id in liked, "muted": status_id in muted, "bookmarked": status_id in marked,
            "pinned": status_id in pinned,
            "sensitive": status.is_sensitive, "spoiler_text": status.spoiler_text, "visibility": status.visibility,
            "media_attachments": [render_media(self.urls, item) for item in self.media.get(status_id, ())],
            "mentions": [self._mention(actor_id) for actor_id in facts.mentioned.get(status_id, ())],
            "tags": [{"name": name, "url": self.urls.tag(name)} for name in facts.tags.get(status_id, ())],
            "card": None, "poll": self.polls.get(status_id), "application": None, "language": status.language,
            "filtered": [],
        }

    def _mention(self, actor_id: int) -> dict[str, Any]:
        account = self.accounts[actor_id]
        return {"id": account["id"], "username": account["username"], "url": account["url"], "acct": account["acct"]}


def _time(moment: Any) -> str:
    """Mastodon's timestamps carry milliseconds: 2026-11-25T14:28:40.123Z (UTC, truncated like strftime)."""
    return str(moment.isoformat(timespec="milliseconds"))[:23] + "Z"


timestamp = _time  # the same format for the other entities (Notification, Marker, Filter ...)
