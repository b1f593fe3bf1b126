"""Groups hosted here (FEP-1b12): founding one, its settings and profile, and who runs it.

A group is a local account of kind `group` whose actor is a Group: it gets keys, an inbox, an outbox and a
followers collection (its members) like any account, and is served by the same actor, WebFinger and collection
code. A group founded through the API cannot log in (its password hash is unusable); its admins manage it.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import accounts, follows, profiles
from fedserver.local.errors import Invalid, NotAllowed, NotFound
from fedserver.local.models.accounts import GROUP as GROUP_ACCOUNT
from fedserver.local.models.actors import GROUP, Actor
from fedserver.local.models.groups import ANYONE, APPROVAL, MEMBERS, MODERATORS, OPEN, GroupRole, GroupSettings
from fedserver.local.urls import LocalUrls

ADMIN, MODERATOR = "admin", "moderator"
ROLES = (ADMIN, MODERATOR)
JOIN_MODES = (OPEN, APPROVAL)
POSTING_MODES = (MEMBERS, ANYONE, MODERATORS)
MAX_RULES = 5000
MAX_TOPIC = 64
_UNUSABLE_PASSWORD = "!"  # not an argon2 hash: verify_password answers False for every password


@dataclass
class SettingsChange:
    """What an admin may change; None leaves a field as it is."""

    display_name: str | None = None
    description: str | None = None
    rules: str | None = None
    topic: str | None = None
    join_mode: str | None = None
    posting_mode: str | None = None
    is_local_only: bool | None = None
    is_private: bool | None = None
    avatar_url: str | None = None
    header_url: str | None = None


async def create(session: AsyncSession, urls: LocalUrls, founder: Actor, username: str, change: SettingsChange,
                 *, now: datetime) -> Actor:
    """Found a group: its actor and keys, its settings, and the founder as its admin and first member."""
    if founder.domain != "":
        raise NotAllowed("only residents of this city can found a group here", "GROUP_RESIDENTS_ONLY")
    account = await accounts.create(session, urls, username=username, email=f"group.{username.lower()}@groups.invalid",
                                    password=secrets.token_urlsafe(24), kind=GROUP_ACCOUNT, now=now)
    account.password_hash = _UNUSABLE_PASSWORD
    group = account.actor
    session.add(GroupSettings(actor_id=group.id))
    session.add(GroupRole(group_id=group.id, actor_id=founder.id, role=ADMIN))
    await session.flush()
    await follows.request(session, urls, founder, group, now=now)  # before approval is switched on
    await update(session, urls, group, change, now=now)
    return group


async def update(session: AsyncSession, urls: LocalUrls, group: Actor, change: SettingsChange, *,
                 now: datetime) -> GroupSettings:
    """Apply a settings change and tell the members' servers (Update of the Group actor); raises Invalid."""
    settings = await settings_of(session, group)
    if change.join_mode is not None:
        settings.join_mode = _choice("join_mode", change.join_mode, JOIN_MODES)
    if change.posting_mode is not None:
        settings.posting_mode = _choice("posting_mode", change.posting_mode, POSTING_MODES)
    if change.is_local_only is not None:
        settings.is_local_only = change.is_local_only
    if change.is_private is not None:
        settings.is_private = change.is_private
    if change.rules is not None:
        settings.rules = _limited("rules", change.rules, MAX_RULES)
    if change.topic is not None:
        group.topic = _limited("topic", change.topic, MAX_TOPIC) or None
    # Approval groups hold joins as follow requests (follows.py); private groups stay out of the directory.
    await profiles.update(session, urls, group, now=now, display_name=change.display_name,
                          note=change.description, icon_url=change.avatar_url, image_url=change.header_url,
                          manually_approves_followers=settings.join_mode == APPROVAL,
                          is_discoverable=not settings.is_private)
    return settings


async def find(session: AsyncSession, group_id: int) -> Actor:
    """A group hosted here by its actor id (the Mastodon account id); raises NotFound."""
    group = await session.get(Actor, group_id)
    if group is None or group.kind != GROUP or group.domain != "":
        raise NotFound("there is no such group here")
    return group


async def settings_of(session: AsyncSession, group: Actor) -> GroupSettings:
    """The group's settings; a group made with `fedserver account create --kind group` gets the defaults."""
    settings = await session.get(GroupSettings, group.id)
    if settings is None:
        settings = GroupSettings(actor_id=group.id, join_mode=APPROVAL if group.manually_approves_followers else OPEN,
                                 posting_mode=MEMBERS, is_local_only=False, is_private=False, rules="")
        session.add(settings)
        await session.flush()
    return settings


async def role_of(session: AsyncSession, group: Actor, actor: Actor) -> str | None:
    """admin, moderator or None."""
    query = select(GroupRole.role).where(GroupRole.group_id == group.id, GroupRole.actor_id == actor.id)
    return await session.scalar(query)


async def require_moderator(session: AsyncSession, group: Actor, actor: Actor) -> str:
    """The actor's role, when it may moderate the group (admins may too); raises NotAllowed."""
    role = await role_of(session, group, actor)
    if role is None:
        raise NotAllowed("only the group's admins and moderators may do this", "GROUP_STAFF_ONLY")
    return role


async def require_admin(session: AsyncSession, group: Actor, actor: Actor) -> None:
    """Raises NotAllowed unless the actor is one of the group's admins."""
    if await role_of(session, group, actor) != ADMIN:
        raise NotAllowed("only the group's admins may do this", "GROUP_ADMINS_ONLY")


async def set_role(session: AsyncSession, group: Actor, actor: Actor, role: str) -> None:
    """Make a resident an admin or moderator of the group."""
    _choice("role", role, ROLES)
    if actor.domain != "":
        raise Invalid("account_id", "ERR_INVALID", "only residents of this city can run a group here")
    existing = await session.get(GroupRole, (group.id, actor.id))
    if existing is None:
        session.add(GroupRole(group_id=group.id, actor_id=actor.id, role=role))
    else:
        existing.role = role
    await session.flush()


async def drop_role(session: AsyncSession, group: Actor, actor: Actor) -> None:
    """Take a role away; the last admin stays, so a group is never left without one."""
    if await role_of(session, group, actor) == ADMIN and len(await staff(session, group, ADMIN)) == 1:
        raise NotAllowed("a group needs at least one admin", "GROUP_LAST_ADMIN")
    await session.execute(delete(GroupRole).where(GroupRole.group_id == group.id, GroupRole.actor_id == actor.id))


async def staff(session: AsyncSession, group: Actor, role: str | None = None) -> list[tuple[Actor, str]]:
    """(actor, role) of the group's admins and moderators, admins first."""
    query = (select(Actor, GroupRole.role).join(GroupRole, GroupRole.actor_id == Actor.id)
             .where(GroupRole.group_id == group.id).order_by(GroupRole.role, Actor.username_key))
    if role is not None:
        query = query.where(GroupRole.role == role)
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def groups_run_by(session: AsyncSession, actor: Actor) -> list[tuple[Actor, str]]:
    """(group, role) of every group the actor runs."""
    query = (select(Actor, GroupRole.role).join(GroupRole, GroupRole.group_id == Actor.id)
             .where(GroupRole.actor_id == actor.id).order_by(Actor.username_key))
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


def _choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise Invalid(field, "ERR_INVALID", f"{field} must be one of {', '.join(allowed)}")
    return value


def _limited(field: str, value: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit:
        raise Invalid(field, "ERR_TOO_LONG", f"{field} has at most {limit} characters")
    return value
