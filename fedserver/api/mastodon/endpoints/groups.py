"""Our own group management API under /api/v1/fedserver/groups (docs/groups.md).

Joining, leaving and posting need no endpoint of their own: a group is an account with `group: true`,
following it is joining, and a post that mentions it is posted into it (as on Friendica and Guppe).
"""
from __future__ import annotations

from typing import Any

from starlette.routing import Route

from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.api.mastodon.entities.account import render_account, render_accounts
from fedserver.api.mastodon.pagination import link_header, page_of
from fedserver.ids import InvalidId, parse_id
from fedserver.local import group_admission, group_membership, group_moderation, group_removals, groups
from fedserver.local.errors import NotFound
from fedserver.local.models.actors import Actor
from fedserver.local.models.statuses import Status

_TEXT_FIELDS = ("display_name", "description", "rules", "topic", "join_mode", "posting_mode")


def _change(call: Call) -> groups.SettingsChange:
    """The settings given in the call; those not given stay as they are."""
    texts = {name: call.text(name) for name in _TEXT_FIELDS}
    flags = {name: call.flag(param) if call.params.get(param) not in (None, "") else None
             for name, param in (("is_local_only", "local_only"), ("is_private", "private"))}
    return groups.SettingsChange(**texts, **flags, avatar_url=call.text("avatar_url"),  # type: ignore[arg-type]
                                 header_url=call.text("header_url"))


async def _render(call: Call, group: Actor) -> dict[str, Any]:
    settings = await groups.settings_of(call.session, group)
    viewer = call.account.actor if call.account is not None else None
    return {
        "id": str(group.id), "account": await render_account(call.session, call.site.urls, group),
        "join_mode": settings.join_mode, "posting_mode": settings.posting_mode,
        "local_only": settings.is_local_only, "private": settings.is_private, "rules": settings.rules,
        "topic": group.topic or "",
        "role": await groups.role_of(call.session, group, viewer) if viewer is not None else None,
        "member": viewer is not None and await group_admission.is_member(call.session, group, viewer),
    }


async def _account(call: Call, name: str) -> Actor:
    """An account named by id in the path or the parameters; 404 when there is none."""
    raw = call.request.path_params.get(name) or call.params.get(name)
    try:
        actor = await call.session.get(Actor, parse_id(str(raw), name)) if raw not in (None, "") else None
    except InvalidId:
        actor = None
    if actor is None:
        raise ApiError(404 if raw not in (None, "") else 422, "Record not found" if raw not in (None, "")
                       else f"{name} is required")
    return actor


@endpoint(scope="write:accounts", user=True, write=True)
async def create(call: Call) -> dict[str, Any]:
    """Found a group: username, display_name, description, rules, topic, join_mode, posting_mode, local_only,
    private; the founder becomes its admin and first member."""
    username = call.text("username")
    if not username:
        raise ApiError(422, "Validation failed: username is required")
    group = await groups.create(call.session, call.site.urls, call.me.actor, username, _change(call), now=call.now)
    return await _render(call, group)


@endpoint(scope="read:accounts", user=True)
async def index(call: Call) -> list[dict[str, Any]]:
    """The groups the signed-in account runs (as admin or moderator)."""
    return [await _render(call, group) for group, _role in await groups.groups_run_by(call.session, call.me.actor)]


@endpoint(scope="read:accounts", public=True)
async def show(call: Call) -> dict[str, Any]:
    return await _render(call, await groups.find(call.session, call.path_id()))


@endpoint(scope="write:accounts", user=True, write=True)
async def update(call: Call) -> dict[str, Any]:
    """Change the group's settings or profile (admins only)."""
    group = await groups.find(call.session, call.path_id())
    await groups.require_admin(call.session, group, call.me.actor)
    await groups.update(call.session, call.site.urls, group, _change(call), now=call.now)
    return await _render(call, group)


@endpoint(scope="read:accounts", public=True)
async def members(call: Call) -> list[dict[str, Any]]:
    """The members, newest first, 40 a page; a private group shows them to its members and staff only."""
    group = await groups.find(call.session, call.path_id())
    settings = await groups.settings_of(call.session, group)
    viewer = call.account.actor if call.account is not None else None
    if settings.is_private and (viewer is None or not (await group_admission.is_member(call.session, group, viewer)
                                                       or await groups.role_of(call.session, group, viewer))):
        raise ApiError(403, "the members of a private group are shown to its members only")
    page = page_of(call, default=40, maximum=80)
    rows = await group_membership.members(call.session, group, max_id=page.max_id, limit=page.limit)
    return await _accounts_page(call, rows)


@endpoint(scope="read:accounts", user=True)
async def requests(call: Call) -> list[dict[str, Any]]:
    """Join requests waiting for a decision (admins and moderators)."""
    group = await groups.find(call.session, call.path_id())
    await groups.require_moderator(call.session, group, call.me.actor)
    page = page_of(call, default=40, maximum=80)
    return await _accounts_page(call, await group_membership.requests(call.session, group, max_id=page.max_id,
                                                                       limit=page.limit))


async def _decide(call: Call, accept: bool) -> dict[str, Any]:
    group = await groups.find(call.session, call.path_id())
    await group_membership.decide(call.session, call.site.urls, group, call.me.actor,
                                  await _account(call, "account_id"), accept=accept, now=call.now)
    return await _render(call, group)


@endpoint(scope="write:accounts", user=True, write=True)
async def authorize(call: Call) -> dict[str, Any]:
    return await _decide(call, True)


@endpoint(scope="write:accounts", user=True, write=True)
async def reject(call: Call) -> dict[str, Any]:
    return await _decide(call, False)


@endpoint(scope="read:accounts", user=True)
async def bans(call: Call) -> list[dict[str, Any]]:
    """Who is banned, newest first, with the reason (admins and moderators)."""
    group = await groups.find(call.session, call.path_id())
    await groups.require_moderator(call.session, group, call.me.actor)
    banned = await group_membership.bans(call.session, group)
    rendered = await render_accounts(call.session, call.site.urls, [actor for actor, _ban in banned])
    return [{"account": rendered[actor.id], "reason": ban.reason, "created_at": ban.created_at.isoformat()}
            for actor, ban in banned]


@endpoint(scope="write:accounts", user=True, write=True)
async def ban(call: Call) -> dict[str, Any]:
    """Ban account_id (with an optional reason): membership ends and the group relays nothing more of theirs."""
    group = await groups.find(call.session, call.path_id())
    await group_membership.ban(call.session, call.site.urls, group, call.me.actor, await _account(call, "account_id"),
                               call.text("reason", "") or "", now=call.now)
    return await _render(call, group)


@endpoint(scope="write:accounts", user=True, write=True)
async def unban(call: Call) -> dict[str, Any]:
    group = await groups.find(call.session, call.path_id())
    await group_membership.unban(call.session, group, call.me.actor, await _account(call, "account_id"))
    return await _render(call, group)


@endpoint(scope="read:accounts", public=True)
async def roles(call: Call) -> list[dict[str, Any]]:
    """The group's admins and moderators."""
    staff = await groups.staff(call.session, await groups.find(call.session, call.path_id()))
    rendered = await render_accounts(call.session, call.site.urls, [actor for actor, _role in staff])
    return [{"account": rendered[actor.id], "role": role} for actor, role in staff]


@endpoint(scope="write:accounts", user=True, write=True)
async def set_role(call: Call) -> dict[str, Any]:
    """Make account_id an admin or moderator (role=admin|moderator; admins only)."""
    group = await groups.find(call.session, call.path_id())
    await groups.require_admin(call.session, group, call.me.actor)
    await groups.set_role(call.session, group, await _account(call, "account_id"), call.text("role", "") or "")
    return await _render(call, group)


@endpoint(scope="write:accounts", user=True, write=True)
async def drop_role(call: Call) -> dict[str, Any]:
    group = await groups.find(call.session, call.path_id())
    await groups.require_admin(call.session, group, call.me.actor)
    await groups.drop_role(call.session, group, await _account(call, "account_id"))
    return await _render(call, group)


@endpoint(scope="write:statuses", user=True, write=True)
async def remove_status(call: Call) -> dict[str, Any]:
    """Remove a post from the group everywhere (admins and moderators; optional reason)."""
    group = await groups.find(call.session, call.path_id())
    status = await call.session.get(Status, call.path_id("status_id"))
    if status is None:
        raise NotFound("Record not found")
    await group_moderation.remove_post(call.session, call.site.urls, group, call.me.actor, status,
                                       call.text("reason", "") or "", now=call.now)
    return {}


@endpoint(scope="read:accounts", user=True)
async def removed_posts(call: Call) -> list[dict[str, Any]]:
    """Posts the moderators removed, newest first, 40 a page (admins and moderators); the post may be gone."""
    group = await groups.find(call.session, call.path_id())
    page = page_of(call, default=40, maximum=80)
    rows = await group_removals.removals(call.session, group, call.me.actor, max_id=page.max_id, limit=page.limit)
    link_header(call, [removal.id for removal, _author, _moderator in rows])
    people = [actor for _removal, author, moderator in rows for actor in (author, moderator) if actor is not None]
    rendered = await render_accounts(call.session, call.site.urls, people)
    return [{"id": str(removal.id), "uri": removal.post_ap_id, "excerpt": removal.excerpt, "reason": removal.reason,
             "created_at": removal.created_at.isoformat(),
             "account": rendered[author.id] if author is not None else None,
             "removed_by": rendered[moderator.id] if moderator is not None else None}
            for removal, author, moderator in rows]


async def _accounts_page(call: Call, rows: list[tuple[int, Actor]]) -> list[dict[str, Any]]:
    link_header(call, [follow_id for follow_id, _actor in rows])
    rendered = await render_accounts(call.session, call.site.urls, [actor for _id, actor in rows])
    return [rendered[actor.id] for _id, actor in rows]


_BASE = "/api/v1/fedserver/groups"
ROUTES = [
    Route(_BASE, create, methods=["POST"]),
    Route(_BASE, index, methods=["GET"]),
    Route(_BASE + "/{id}", show, methods=["GET"]),
    Route(_BASE + "/{id}", update, methods=["PATCH", "PUT"]),
    Route(_BASE + "/{id}/members", members, methods=["GET"]),
    Route(_BASE + "/{id}/requests", requests, methods=["GET"]),
    Route(_BASE + "/{id}/requests/{account_id}/authorize", authorize, methods=["POST"]),
    Route(_BASE + "/{id}/requests/{account_id}/reject", reject, methods=["POST"]),
    Route(_BASE + "/{id}/bans", bans, methods=["GET"]),
    Route(_BASE + "/{id}/bans", ban, methods=["POST"]),
    Route(_BASE + "/{id}/bans/{account_id}", unban, methods=["DELETE"]),
    Route(_BASE + "/{id}/roles", roles, methods=["GET"]),
    Route(_BASE + "/{id}/roles", set_role, methods=["POST"]),
    Route(_BASE + "/{id}/roles/{account_id}", drop_role, methods=["DELETE"]),
    Route(_BASE + "/{id}/statuses/{status_id}", remove_status, methods=["DELETE"]),
    Route(_BASE + "/{id}/removed_posts", removed_posts, methods=["GET"]),
]
