"""Accounts endpoints (docs.joinmastodon.org/methods/accounts): one's own profile, finding accounts.

Relationships (follow, block, mute ...) are in accounts_relations.py, the paged lists (statuses,
followers, blocks ...) in accounts_lists.py, registration and deletion in accounts_register.py;
this module's ROUTES carries them all.
"""
from __future__ import annotations

import logging
from typing import Any

import anyio
from sqlalchemy import func, select
from starlette.datastructures import UploadFile
from starlette.routing import Route

from fedserver.activitypub.errors import MalformedObject, OriginMismatch, PeerUnavailable
from fedserver.activitypub.errors import NotAllowed as FetchRefused
from fedserver.activitypub.fetch import Gone
from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.api.mastodon.endpoints import accounts_lists, accounts_register, accounts_relations
from fedserver.api.mastodon.entities.account import render_account, render_account_list, source_of
from fedserver.api.mastodon.entities.relationship import render_relationships
from fedserver.inbox import remote
from fedserver.local import account_lookup, account_notes, avatars, preferences, profiles
from fedserver.local.errors import Invalid, LocalError
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import PENDING, Follow

log = logging.getLogger(__name__)
# What resolving a handle may run into; the search then simply finds nothing (as on Mastodon).
UNRESOLVABLE = (MalformedObject, OriginMismatch, PeerUnavailable, FetchRefused, Gone, LocalError, ValueError)


async def _credential_account(call: Call) -> dict[str, Any]:
    """CredentialAccount: the account plus `source`, what its owner typed."""
    actor = call.me.actor
    requests = int(await call.session.scalar(select(func.count(Follow.id)).where(
        Follow.target_id == actor.id, Follow.state == PENDING)) or 0)
    entity = await render_account(call.session, call.site.urls, actor)
    entity["source"] = source_of(actor, privacy=call.me.default_visibility, sensitive=call.me.default_sensitive,
                                 language=preferences.posting_language(call.me) or "",
                                 follow_requests_count=requests)
    entity["hide_collections"] = entity["source"]["hide_collections"] = call.me.hide_collections
    return entity


@endpoint(scope="read:accounts", user=True)
async def verify_credentials(call: Call) -> dict[str, Any]:
    """The signed-in account, with `source` (what they typed) for editing."""
    return await _credential_account(call)


@endpoint(scope="write:accounts", user=True, write=True)
async def update_credentials(call: Call) -> dict[str, Any]:
    """PATCH: change the profile; peers learn of it by Update{Person}. Replaced pictures leave the disk."""
    actor = call.me.actor
    replaced = [avatars.path_of(call.site.urls, url) for url in (actor.icon_url, actor.image_url)]
    pictures: dict[str, str | None] = {"avatar": None, "header": None}
    committed = False
    try:
        for kind in (avatars.AVATAR, avatars.HEADER):
            pictures[kind.field] = await _store_picture(call, kind)
        _change_source(call)
        await profiles.update(
            call.session, call.site.urls, actor, now=call.now, display_name=call.text("display_name"),
            note=call.text("note"), manually_approves_followers=_maybe(call, "locked"), is_bot=_maybe(call, "bot"),
            is_discoverable=_maybe(call, "discoverable"), is_indexable=_maybe(call, "indexable"),
            fields=_fields(call.params.get("fields_attributes")),
            icon_url=call.site.urls.media(pictures["avatar"]) if pictures["avatar"] else None,
            image_url=call.site.urls.media(pictures["header"]) if pictures["header"] else None)
        entity = await _credential_account(call)
        await call.session.commit()
        committed = True
    finally:
        if not committed:  # the rows stay as they were: so must the disk
            avatars.remove(call.site.settings.media_dir, [path for path in pictures.values() if path])
    # Only now that the new URLs are committed may the old files go.
    gone = [old for old, kind in zip(replaced, ("avatar", "header")) if old and pictures[kind]]
    avatars.remove(call.site.settings.media_dir, gone)
    return entity


def _change_source(call: Call) -> None:
    """source[privacy], source[sensitive], source[language] (posting defaults) and hide_collections."""
    source: dict[str, Any] = call.params["source"] if isinstance(call.params.get("source"), dict) else {}
    sensitive = source.get("sensitive")
    language = source.get("language")
    preferences.set_posting_defaults(
        call.me, visibility=str(source["privacy"]) if source.get("privacy") not in (None, "") else None,
        sensitive=None if sensitive in (None, "") else _truthy(sensitive),
        language=None if language is None else str(language).strip())
    hide = _maybe(call, "hide_collections")
    if hide is not None:
        call.me.hide_collections = hide


def _truthy(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "on", "yes", "t")


def _maybe(call: Call, name: str) -> bool | None:
    """A boolean parameter, or None when it was not sent (that field stays as it is)."""
    return call.flag(name) if call.params.get(name) not in (None, "") else None


async def _store_picture(call: Call, kind: avatars.Kind) -> str | None:
    upload = call.params.get(kind.field)
    if not isinstance(upload, UploadFile):
        return None  # absent, or text where a file belongs: nothing to change
    data = await upload.read(avatars.MAX_BYTES + 1)
    # Pillow decodes and encodes on a worker thread: a large picture must not stall the event loop.
    return await anyio.to_thread.run_sync(avatars.store, call.site.settings.media_dir, data, kind)


def _fields(value: Any) -> list[tuple[str, str]] | None:
    """fields_attributes as forms send it ({"0": {name, value}, ...}) or as JSON (a list of {name, value})."""
    if value is None:
        return None
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (not str(key).isdigit(), int(key) if str(key).isdigit() else 0))
        value = [value[key] for key in keys]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Invalid("fields_attributes", "ERR_INVALID", "fields_attributes is a list of {name, value}")
    return [(str(item.get("name") or ""), str(item.get("value") or "")) for item in value]


@endpoint(scope="read:accounts", public=True)
async def show(call: Call) -> dict[str, Any]:
    """One account, local or remote; unknown, unapproved, suspended and deleted ones are 404."""
    actor = await account_lookup.find_shown(call.session, call.path_id())
    return await render_account(call.session, call.site.urls, actor)


@endpoint(scope="read:accounts", public=True)
async def lookup(call: Call) -> dict[str, Any]:
    """An account by its handle, from what we hold (no WebFinger, as on Mastodon)."""
    actor = await account_lookup.find_by_handle(call.session, call.site.urls, call.text("acct") or "")
    return await render_account(call.session, call.site.urls, actor)


@endpoint(scope="read:accounts", user=True)
async def search(call: Call) -> list[dict[str, Any]]:
    """Accounts by the start of a username or display name; resolve=true looks a full handle up by WebFinger."""
    text = (call.text("q") or "").strip()
    if not text:
        raise ApiError(400, "Param is missing or the value is empty: q")
    limit, offset = _number(call, "limit", 40, 80, minimum=1), _number(call, "offset", 0, 10_000)
    following_of = call.me.actor.id if call.flag("following") else None
    found = await account_lookup.search(call.session, call.site.urls, text, limit=limit, offset=offset,
                                        following_of=following_of)
    if offset == 0 and call.flag("resolve") and following_of is None and not _has_exact(call, text, found):
        resolved = await _resolve(call, text)
        found = [resolved, *found[:limit - 1]] if resolved is not None else found
    return await render_account_list(call.session, call.site.urls, found)


def _has_exact(call: Call, handle: str, found: list[Actor]) -> bool:
    user, domain = account_lookup.split_handle(call.site.urls, handle)
    return any(actor.username_key == user.lower() and actor.domain == domain for actor in found)


async def _resolve(call: Call, handle: str) -> Actor | None:
    """A remote account by WebFinger, fetched and stored; None when it cannot be found."""
    user, domain = account_lookup.split_handle(call.site.urls, handle)
    if not domain:  # a name alone, or one of ours: nothing to ask the network
        return None
    await call.session.commit()  # no transaction stays open across network I/O (STYLE.md)
    deps = call.request.app.state.inbox
    try:
        ap_id = await deps.fetcher.resolve_handle(f"{user}@{domain}", now=call.now)
        actor = await remote.ensure_actor(deps, ap_id, now=call.now)
    except UNRESOLVABLE as exc:
        log.info("could not resolve %s@%s: %s", user, domain, exc)
        return None
    try:
        return await account_lookup.find_shown(call.session, actor.id)
    except LocalError:
        return None


def _number(call: Call, name: str, default: int, maximum: int, minimum: int = 0) -> int:
    """A whole-number parameter, clamped into range as Mastodon clamps limits; 400 for anything else."""
    raw = call.text(name)
    try:
        return default if raw in (None, "") else max(minimum, min(int(str(raw)), maximum))
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number") from None


@endpoint(scope="read:accounts", public=True)
async def featured_tags(call: Call) -> list[Any]:
    """Hashtags the account features: we keep none yet, so the list is empty (for known accounts)."""
    await account_lookup.find_shown(call.session, call.path_id())
    return []


@endpoint(scope="write:accounts", user=True, write=True)
async def note(call: Call) -> dict[str, Any]:
    """POST /api/v1/accounts/:id/note: a private note about the account (comment; empty removes it),
    answered with the Relationship, where it shows as `note`."""
    target = await account_lookup.find_shown(call.session, call.path_id())
    await account_notes.set_note(call.session, call.me.id, target.id, call.text("comment") or "", now=call.now)
    return (await render_relationships(call.session, call.me.actor, [target], now=call.now))[0]


ROUTES = [
    Route("/api/v1/accounts/verify_credentials", verify_credentials),
    Route("/api/v1/accounts/update_credentials", update_credentials, methods=["PATCH"]),
    Route("/api/v1/accounts/lookup", lookup),
    Route("/api/v1/accounts/search", search),
    *accounts_register.ROUTES,
    *accounts_relations.ROUTES,
    *accounts_lists.ROUTES,
    Route("/api/v1/accounts/{id:int}", show),
    Route("/api/v1/accounts/{id:int}/featured_tags", featured_tags),
    Route("/api/v1/accounts/{id:int}/note", note, methods=["POST"]),
]
