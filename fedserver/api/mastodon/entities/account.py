"""Account entity (docs.joinmastodon.org/entities/Account), rendered for many actors in a few queries."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, cast, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub import dates
from fedserver.ids import time_of
from fedserver.local.models.actors import GROUP, Actor
from fedserver.local.models.interactions import ACCEPTED, Follow
from fedserver.local.models.statuses import Status
from fedserver.local.urls import LocalUrls

BOT_KINDS = ("Service", "Application")


async def render_accounts(session: AsyncSession, urls: LocalUrls, actors: Sequence[Actor]) -> dict[int, dict[str, Any]]:
    """Account entities by actor id; the counts come from one query of three grouped parts, not one per account."""
    ids = list({actor.id for actor in actors})
    followers: dict[int, int] = {}
    following: dict[int, int] = {}
    posts: dict[int, tuple[int, Any]] = {}
    if ids:
        # max(id), not max(published_at): ids are times (DESIGN.md) and (author_id, id) is an index, so the
        # counts never read the status rows (bench/home_timeline.py: 128 ms -> ~1 ms for 40 authors); and one
        # round trip for all three, as a timeline page's cost is mostly its number of queries.
        parts = union_all(
            select(literal(0), Follow.target_id, func.count(), cast(null(), BigInteger)).where(
                Follow.target_id.in_(ids), Follow.state == ACCEPTED).group_by(Follow.target_id),
            select(literal(1), Follow.follower_id, func.count(), cast(null(), BigInteger)).where(
                Follow.follower_id.in_(ids), Follow.state == ACCEPTED).group_by(Follow.follower_id),
            select(literal(2), Status.author_id, func.count(Status.id), func.max(Status.id)).where(
                Status.author_id.in_(ids)).group_by(Status.author_id))
        for kind, actor_id, count, newest in (await session.execute(parts)).all():
            if kind == 2:
                posts[actor_id] = (count, time_of(newest) if newest else None)
            else:
                (followers if kind == 0 else following)[actor_id] = count
    return {actor.id: _render(urls, actor, followers.get(actor.id, 0), following.get(actor.id, 0),
                              *posts.get(actor.id, (0, None))) for actor in actors}


async def render_account(session: AsyncSession, urls: LocalUrls, actor: Actor) -> dict[str, Any]:
    return (await render_accounts(session, urls, [actor]))[actor.id]


async def render_account_list(session: AsyncSession, urls: LocalUrls, actors: Sequence[Actor]) -> list[dict[str, Any]]:
    """Account entities in the given order (a page of followers, search results ...)."""
    rendered = await render_accounts(session, urls, actors)
    return [rendered[actor.id] for actor in actors]


def acct(urls: LocalUrls, actor: Actor) -> str:
    """username for our own accounts, username@domain for remote ones (Mastodon's acct)."""
    return actor.username if actor.domain == "" else f"{actor.username}@{actor.domain}"


def _render(urls: LocalUrls, actor: Actor, followers: int, following: int, statuses: int,
            last_status_at: Any) -> dict[str, Any]:
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
                   for f in json.loads(actor.fields_json or "[]")],
    }


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

