"""The rest of what apps ask for: instance activity, the directory, announcements, preferences, and the
ranked lists we do not keep (trends, suggestions, followed and featured hashtags), answered honestly
with nothing (DESIGN.md: no ranking anywhere)."""
from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from starlette.routing import Route

from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.api.mastodon.entities.account import render_accounts
from fedserver.api.mastodon.entities.announcement import render_announcement
from fedserver.ids import LOW_BITS
from fedserver.local import announcements, search
from fedserver.local import preferences as posting_preferences
from fedserver.local.models.accounts import Account
from fedserver.local.models.actors import APPLICATION, Actor
from fedserver.local.models.interactions import DomainBlock
from fedserver.local.models.oauth import AccessToken
from fedserver.local.models.statuses import Status

WEEKS = 12
WEEK = timedelta(weeks=1)


def _week_of(moment: datetime, first: datetime) -> int:
    return int((moment - first) // WEEK)


@endpoint(public=True)
async def activity(call: Call) -> list[dict[str, str]]:
    """GET /api/v1/instance/activity: per week (Monday 00:00 UTC), newest first, for twelve weeks.
    Logins count the accounts that signed in (a token issued) or used the API that week, as far as
    the tokens tell: a token remembers only its latest use."""
    today = call.now.replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=today.weekday()) - (WEEKS - 1) * WEEK
    first_ms = int(first.timestamp() * 1000)
    week = ((Status.id.op(">>")(LOW_BITS) - first_ms) // int(WEEK.total_seconds() * 1000)).label("week")
    posts: dict[int, int] = dict((await call.session.execute(
        select(week, func.count(Status.id)).where(Status.is_local.is_(True), Status.reblog_of_id.is_(None),
                                                  Status.id >= first_ms << LOW_BITS).group_by(week))).all())
    joined = Counter(_week_of(moment, first) for moment in (await call.session.scalars(
        select(Account.created_at).where(Account.created_at >= first))).all())
    logins: dict[int, set[int]] = {}
    for account_id, created, used in (await call.session.execute(
            select(AccessToken.account_id, AccessToken.created_at, AccessToken.last_used_at).where(
                AccessToken.account_id.is_not(None),
                or_(AccessToken.created_at >= first, AccessToken.last_used_at >= first)))).all():
        for moment in (created, used):
            if moment is not None and moment >= first and account_id is not None:
                logins.setdefault(_week_of(moment, first), set()).add(account_id)
    return [{"week": str(int((first + index * WEEK).timestamp())), "statuses": str(posts.get(index, 0)),
             "logins": str(len(logins.get(index, ()))), "registrations": str(joined.get(index, 0))}
            for index in reversed(range(WEEKS))]


@endpoint(public=True)
async def extended_description(call: Call) -> dict[str, Any]:
    """GET /api/v1/instance/extended_description: the city's description."""
    return {"updated_at": None, "content": f"<p>{call.site.settings.city.description}</p>"}


@endpoint(public=True)
async def translation_languages(call: Call) -> dict[str, Any]:
    """GET /api/v1/instance/translation_languages: this server translates nothing."""
    return {}


@endpoint(public=True)
async def instance_domain_blocks(call: Call) -> list[dict[str, Any]]:
    """GET /api/v1/instance/domain_blocks: the servers the city refuses, openly."""
    rows = (await call.session.scalars(select(DomainBlock).where(DomainBlock.actor_id.is_(None))
                                       .order_by(DomainBlock.domain))).all()
    return [{"domain": row.domain, "digest": hashlib.sha256(row.domain.encode()).hexdigest(),
             "severity": row.severity, "comment": row.reason or None} for row in rows]


def _count(call: Call, name: str, default: int, maximum: int) -> int:
    raw = call.params.get(name)
    try:
        value = default if raw in (None, "") else int(str(raw))
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number") from None
    if value < 0:
        raise ApiError(400, "Pagination values for `offset` and `limit` must be positive")
    return min(value, maximum)


@endpoint(scope="read:accounts", public=True)
async def directory(call: Call) -> list[dict[str, Any]]:
    """GET /api/v1/directory: accounts that chose to be listed; by latest post (active) or newest."""
    order = call.text("order") or "active"
    if order not in ("active", "new"):
        raise ApiError(400, "order must be active or new")
    latest = select(func.max(Status.id)).where(Status.author_id == Actor.id).correlate(Actor).scalar_subquery()
    query = (select(Actor).outerjoin(Account, Account.actor_id == Actor.id).where(
        Actor.is_discoverable.is_(True), Actor.kind != APPLICATION,
        or_(Account.id.is_(None), and_(Account.is_suspended.is_(False), Account.is_approved.is_(True))),
        search.not_blocked(Actor.id, call.account.actor_id if call.account else None)))
    if call.flag("local"):
        query = query.where(Actor.domain == "")
    ordering = (latest.desc().nulls_last(), Actor.id.desc()) if order == "active" else (
        Actor.published_at.desc(), Actor.id.desc())
    offset, limit = _count(call, "offset", 0, 10**9), max(1, _count(call, "limit", 40, 80))
    query = query.order_by(*ordering).offset(offset).limit(limit)
    actors = list((await call.session.scalars(query)).all())
    rendered = await render_accounts(call.session, call.site.urls, actors)
    return [rendered[actor.id] for actor in actors]


@endpoint(scope="read", user=True)
async def list_announcements(call: Call) -> list[dict[str, Any]]:
    """GET /api/v1/announcements: current ones, without those this reader dismissed unless asked."""
    rows = await announcements.current(call.session, call.me.id, now=call.now,
                                       with_dismissed=call.flag("with_dismissed"))
    return [render_announcement(announcement, read=read) for announcement, read in rows]


def _moment(call: Call, name: str) -> datetime | None:
    raw = call.text(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(422, f"{name} must be a date and time like 2026-12-24T18:00:00Z") from None
    if moment.tzinfo is None:
        raise ApiError(422, f"{name} must carry a time zone (Z for UTC)")
    return moment


@endpoint(scope="admin:write", user=True, write=True)
async def publish_announcement(call: Call) -> dict[str, Any]:
    """POST /api/v1/announcements (ours; Mastodon has it only in its admin pages): text, starts_at, ends_at."""
    announcement = await announcements.publish(call.session, call.site.urls, call.me, call.text("text") or "",
                                               starts_at=_moment(call, "starts_at"), ends_at=_moment(call, "ends_at"),
                                               now=call.now)
    return render_announcement(announcement, read=False)


@endpoint(scope="write:accounts", user=True, write=True)
async def dismiss_announcement(call: Call) -> dict[str, Any]:
    """POST /api/v1/announcements/:id/dismiss."""
    await announcements.dismiss(call.session, call.path_id(), call.me.id)
    return {}


@endpoint(scope="write:favourites", user=True)
async def add_reaction(call: Call) -> dict[str, Any]:
    """PUT /api/v1/announcements/:id/reactions/:name: we keep no reactions, and say so."""
    raise ApiError(422, "Reactions to announcements are not supported on this server")


@endpoint(scope="write:favourites", user=True)
async def remove_reaction(call: Call) -> dict[str, Any]:
    """DELETE /api/v1/announcements/:id/reactions/:name: there is nothing to remove."""
    return {}


@endpoint(public=True)
async def nothing_ranked(call: Call) -> list[Any]:
    """Trends: nothing is ranked here (DESIGN.md), so there is nothing to list."""
    return []


@endpoint(scope="read", user=True)
async def no_suggestions(call: Call) -> list[Any]:
    """GET /api/v1/suggestions and /api/v2/suggestions: we suggest no one (no ranking)."""
    return []


@endpoint(scope="read", user=True)
async def forget_suggestion(call: Call) -> dict[str, Any]:
    """DELETE /api/v1/suggestions/:account_id: there are no suggestions to remove one from."""
    return {}


@endpoint(scope="read:follows", user=True)
async def followed_tags(call: Call) -> list[Any]:
    """GET /api/v1/followed_tags: following hashtags is not offered yet."""
    return []


@endpoint(scope="read:accounts", user=True)
async def featured_tags(call: Call) -> list[Any]:
    """GET /api/v1/featured_tags and its suggestions: featuring hashtags on a profile is not offered yet."""
    return []


@endpoint(scope="read:accounts", user=True)
async def preferences(call: Call) -> dict[str, Any]:
    """GET /api/v1/preferences: the account's posting defaults (set through update_credentials' source)."""
    return {"posting:default:visibility": call.me.default_visibility,
            "posting:default:sensitive": call.me.default_sensitive,
            "posting:default:language": posting_preferences.posting_language(call.me), "reading:expand:media": "default",
            "reading:expand:spoilers": False}


ROUTES = [
    Route("/api/v1/instance/activity", activity),
    Route("/api/v1/instance/extended_description", extended_description),
    Route("/api/v1/instance/translation_languages", translation_languages),
    Route("/api/v1/instance/domain_blocks", instance_domain_blocks),
    Route("/api/v1/directory", directory),
    Route("/api/v1/announcements", list_announcements, methods=["GET"]),
    Route("/api/v1/announcements", publish_announcement, methods=["POST"]),
    Route("/api/v1/announcements/{id}/dismiss", dismiss_announcement, methods=["POST"]),
    Route("/api/v1/announcements/{id}/reactions/{name}", add_reaction, methods=["PUT"]),
    Route("/api/v1/announcements/{id}/reactions/{name}", remove_reaction, methods=["DELETE"]),
    *(Route(path, nothing_ranked) for path in (
        "/api/v1/trends", "/api/v1/trends/tags", "/api/v1/trends/statuses", "/api/v1/trends/links")),
    Route("/api/v1/suggestions", no_suggestions, methods=["GET"]),
    Route("/api/v2/suggestions", no_suggestions, methods=["GET"]),
    Route("/api/v1/suggestions/{account_id}", forget_suggestion, methods=["DELETE"]),
    Route("/api/v1/followed_tags", followed_tags),
    Route("/api/v1/featured_tags", featured_tags, methods=["GET"]),
    Route("/api/v1/featured_tags/suggestions", featured_tags),
    Route("/api/v1/preferences", preferences),
]
