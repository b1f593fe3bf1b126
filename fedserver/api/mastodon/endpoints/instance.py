"""Instance endpoints: what apps read before and after log-in (v1, v2, peers, activity, rules ...)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import distinct, func, select
from starlette.routing import Route

from fedserver import __version__
from fedserver.api.mastodon.call import Call, endpoint
from fedserver.api.mastodon.entities.account import render_account
from fedserver.local import accounts, city_rules, statuses
from fedserver.local.models.accounts import ADMIN, Account
from fedserver.local.models.actors import Actor
from fedserver.local.statuses import MAX_CHARACTERS

# Mastodon.py decides which endpoints exist by this version (CLIENTS.md).
VERSION = f"4.3.0 (compatible; fedserver {__version__})"
RULES = [{"id": str(number), "text": text, "hint": ""} for number, text in enumerate(city_rules.RULES, 1)]
CONFIGURATION: dict[str, Any] = {
    "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
    "statuses": {"max_characters": MAX_CHARACTERS, "max_media_attachments": 4, "characters_reserved_per_url": 23},
    "media_attachments": {"supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
                          "image_size_limit": 16_777_216, "image_matrix_limit": 33_177_600,
                          "video_size_limit": 0, "video_frame_rate_limit": 0, "video_matrix_limit": 0},
    "polls": {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300,
              "max_expiration": 2_629_746},
}


async def _contact(call: Call) -> Any:
    admin = (await call.session.scalars(select(Actor).join(Account, Account.actor_id == Actor.id)
                                        .where(Account.role == ADMIN).order_by(Account.id).limit(1))).first()
    return await render_account(call.session, call.site.urls, admin) if admin else None


@endpoint(public=True)
async def instance_v1(call: Call) -> dict[str, Any]:
    settings, urls = call.site.settings, call.site.urls
    return {
        "uri": urls.domain, "title": settings.city.name, "short_description": settings.city.description,
        "description": settings.city.description, "email": settings.city.contact_email, "version": VERSION,
        "urls": {"streaming_api": urls.base_url.replace("http", "ws", 1)},
        "stats": {"user_count": await accounts.count_users(call.session),
                  "status_count": await statuses.count_local(call.session),
                  "domain_count": int(await call.session.scalar(
                      select(func.count(distinct(Actor.domain))).where(Actor.domain != "")) or 0)},
        "thumbnail": f"{urls.base_url}/static/header.png", "languages": ["de", "en"],
        "registrations": settings.registrations != "closed", "approval_required": settings.registrations == "approval",
        "invites_enabled": False, "configuration": CONFIGURATION | {"accounts": None},
        "contact_account": await _contact(call), "rules": RULES,
    }


@endpoint(public=True)
async def instance_v2(call: Call) -> dict[str, Any]:
    settings, urls = call.site.settings, call.site.urls
    month_ago = call.now - timedelta(days=30)
    return {
        "domain": urls.domain, "title": settings.city.name, "version": VERSION,
        "source_url": "https://example.invalid/fedserver", "description": settings.city.description,
        "usage": {"users": {"active_month": await accounts.count_users(call.session, active_since=month_ago)}},
        "thumbnail": {"url": f"{urls.base_url}/static/header.png", "blurhash": None, "versions": {}},
        "icon": [], "languages": ["de", "en"],
        "configuration": {"urls": {"streaming": urls.base_url.replace("http", "ws", 1), "status": None},
                          "vapid": {"public_key": ""}, "translation": {"enabled": False},
                          "timelines_access": {"live_feeds": {"local": "public", "remote": "public"},
                                               "hashtag_feeds": {"local": "public", "remote": "public"},
                                               "trending_link_feeds": {"local": "disabled", "remote": "disabled"}},
                          **CONFIGURATION},
        "registrations": {"enabled": settings.registrations != "closed",
                          "approval_required": settings.registrations == "approval", "message": None, "url": None},
        "api_versions": {"mastodon": 2},
        "contact": {"email": settings.city.contact_email, "account": await _contact(call)},
        "rules": RULES,
        # The city's own facts, for clients that know fedserver (radius search, map centre).
        "fedserver": {"city": {"name": settings.city.name, "latitude": settings.city.latitude,
                               "longitude": settings.city.longitude, "radius_km": settings.city.radius_km}},
    }


@endpoint(public=True)
async def peers(call: Call) -> list[str]:
    """Servers we know actors of, alphabetically."""
    rows = await call.session.scalars(select(distinct(Actor.domain)).where(Actor.domain != "").order_by(Actor.domain))
    return list(rows.all())


@endpoint(public=True)
async def rules(call: Call) -> list[dict[str, str]]:
    return RULES


@endpoint(public=True)
async def custom_emojis(call: Call) -> list[Any]:
    return []


ROUTES = [
    Route("/api/v1/instance", instance_v1), Route("/api/v1/instance/", instance_v1),
    Route("/api/v2/instance", instance_v2), Route("/api/v2/instance/", instance_v2),
    Route("/api/v1/instance/peers", peers), Route("/api/v1/instance/rules", rules),
    Route("/api/v1/custom_emojis", custom_emojis),
]
