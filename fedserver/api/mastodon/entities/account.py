"""Account entity (docs.joinmastodon.org/entities/Account), rendered for many actors in a few queries."""
from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import BindParameter, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub import dates
from fedserver.api.mastodon.entities.account_cache import cache_for
from fedserver.ids import time_of
from fedserver.local.models.actors import GROUP, Actor
from fedserver.local.models.interactions import ACCEPTED, Follow
from fedserver.local.models.statuses import Status
from fedserver.local.urls import LocalUrls

BOT_KINDS = ("Service", "Application")


def _count_columns() -> list[Any]:
    # max(id), not max(published_at): ids are times (DESIGN.md) and (author_id, id) is an index, so the counts
    # never read the status rows (bench/home_timeline.py: 128 ms -> ~1 ms for 40 authors). statuses_count
    # still reads one index entry per status: only a stored counter would make it constant.
    return [
        select(func.count()).where(Follow.target_id == Actor.id, Follow.state == ACCEPTED)
        .scalar_subquery().label("followers_count"),
        select(func.count()).where(Follow.follower_id == Actor.id, Follow.state == ACCEPTED)
        .scalar_subquery().label("following_count"),
        select(func.count(Status.id)).where(Status.author_id == Actor.id).scalar_subquery().label("statuses_count"),
        select(func.max(Status.id)).where(Status.author_id == Actor.id).scalar_subquery().label("newest_status_id"),
    ]


# Built once with an expanding parameter: one round trip per page, no statement building per request.
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_COUNTS = select(Actor.id, *_count_columns()).where(Actor.id.in_(_IDS))
_ACTORS_WITH_COUNTS = select(Actor.__table__, *_count_columns()).where(Actor.id.in_(_IDS))


async def render_accounts(session: AsyncSession, urls: LocalUrls, actors: Sequence[Actor]) -> dict[int, dict[str, Any]]:
    """Account entities by actor id; the counts come from one query for all of them, not one per account."""
    ids = list({actor.id for actor in actors})
    counts = {row.id: row for row in (await session.execute(_COUNTS, {"ids": ids})).all()} if ids else {}
    return {actor.id: _render(urls, actor, counts.get(actor.id)) for actor in actors}


async def render_accounts_by_id(session: AsyncSession, urls: LocalUrls, actor_ids: Collection[int]
                                ) -> dict[int, dict[str, Any]]:
    """Account entities by actor id, read with their counts as rows in one query (pages of statuses);
    those rendered in the last seconds come from the cache (account_cache.py) and cost no query."""
    if not actor_ids:
        return {}
    cache = cache_for(session)
    if cache is None:
        rows = (await session.execute(_ACTORS_WITH_COUNTS, {"ids": list(actor_ids)})).all()
        return {row.id: _render(urls, row, row) for row in rows}
    started_at = cache.start()
    found = cache.found(actor_ids)
    missing = [actor_id for actor_id in actor_ids if actor_id not in found]
    if missing:
        rows = (await session.execute(_ACTORS_WITH_COUNTS, {"ids": missing})).all()
        rendered = {row.id: _render(urls, row, row) for row in rows}
        cache.store(rendered, started_at)
        found.update(rendered)
    return found


async def render_account(session: AsyncSession, urls: LocalUrls, actor: Actor) -> dict[str, Any]:
    return (await render_accounts(session, urls, [actor]))[actor.id]


async def render_account_list(session: AsyncSession, urls: LocalUrls, actors: Sequence[Actor]) -> list[dict[str, Any]]:
    """Account entities in the given order (a page of followers, search results ...)."""
    rendered = await render_accounts(session, urls, actors)
    return [rendered[actor.id] for actor in actors]


def acct(urls: LocalUrls, actor: Actor) -> str:
    """username for our own accounts, username@domain for remote ones (Mastodon's acct)."""
    return actor.username if actor.domain == "" else f"{actor.username}@{actor.domain}"


def _render(urls: LocalUrls, actor: Any, counts: Any) -> dict[str, Any]:
    """One Account; `actor` is an Actor or a row of its columns, `counts` a row of _count_columns (or None)."""
    followers, following, statuses, newest = (
        (counts.followers_count, counts.following_count, counts.statuses_count, counts.newest_status_id)
        if counts is not None else (0, 0, 0, None))
    last_status_at = time_of(newest) if newest else None
    avatar = actor.icon_url or f"{urls.base_url}/static/avatar.png"
    header = actor.image_url or f"{urls.base_url}/static/header.png"
    return {
        "id": str(actor.id), "username": actor.username, "acct": acct(urls, actor),
        "display_name": actor.display_name or "", "locked": actor.manually_approves_followers,
        "bot": actor.is_bot or actor.kind in BOT_KINDS, "discoverable": actor.is_discoverable,
        "indexable": actor.is_indexable, "group": actor.kind == GROUP,
        "created_at": _midnight(actor.published_at), "note": actor.summary_html or "",
        "url": actor.url or actor.ap_id, "uri": actor.ap_id,
        "avatar": avatar, "avatar_static": avatar, "header": header, "header_static": header,
        "followers_count": followers, "following_count": following, "statuses_count": statuses,
        "last_status_at": last_status_at.date().isoformat() if last_status_at else None,
        "hide_collections": False, "noindex": not actor.is_indexable, "emojis": [], "roles": [],
        "fields": [{"name": f["name"], "value": f["value_html"], "verified_at": None}
                   for f in _fields(actor.fields_json)],
    }


def _fields(fields_json: str | None) -> list[dict[str, Any]]:
    return [] if not fields_json or fields_json == "[]" else list(json.loads(fields_json))


def _midnight(moment: Any) -> str:
    """Mastodon rounds an account's created_at to the day, to reveal less."""
    return dates.format(moment.replace(hour=0, minute=0, second=0, microsecond=0)).replace("Z", ".000Z")


def source_of(actor: Actor, *, privacy: str = "public", sensitive: bool = False, language: str = "de",
              follow_requests_count: int = 0) -> dict[str, Any]:
    """The `source` attribute of verify_credentials: what the account typed, for editing."""
    return {"note": _plain(actor.summary_html), "fields": [  # what was typed, kept beside the HTML by profiles.update
        {"name": f["name"], "value": f.get("value", _plain(f["value_html"])), "verified_at": None}
        for f in json.loads(actor.fields_json or "[]")],
        "privacy": privacy, "sensitive": sensitive, "language": language,
        "follow_requests_count": follow_requests_count, "hide_collections": False,
        "discoverable": actor.is_discoverable, "indexable": actor.is_indexable}


def _plain(html: str) -> str:
    import re
    from html import unescape

    text = re.sub(r"<br\s*/?>", "\n", html or "")
    text = re.sub(r"</p>\s*<p>", "\n\n", text)
    return unescape(re.sub(r"<[^>]+>", "", text)).strip()

