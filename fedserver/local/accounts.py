"""Accounts: who may register under which name, and the actor and keys every account gets."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub.keys import generate_key_pair
from fedserver.local import passwords
from fedserver.local.errors import Invalid, NotFound
from fedserver.local.models.accounts import ACCOUNT_KINDS, ADMIN, BUSINESS, CLUB, CITY, GROUP, ROLES, USER, Account
from fedserver.local.models.actors import APPLICATION, GROUP as GROUP_TYPE, ORGANIZATION, PERSON, Actor, ActorKey
from fedserver.local.models.shops import Shop
from fedserver.local.urls import LocalUrls

# Mastodon's rule: letters, digits and underscores, at most 30 characters.
USERNAME = re.compile(r"^[A-Za-z0-9_]{1,30}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
# Names people could mistake for the city's staff, and names of our own routes.
RESERVED = frozenset(
    "admin administrator root support help webmaster mod moderator moderators postmaster hostmaster abuse "
    "security staff system official stadt city instance actor inbox outbox users user api oauth settings "
    "about tags directory groups shops events static media auth login logout signup register web".split()
)
TRIAL_PERIOD = timedelta(days=30)  # businesses: one free month, then 29.90 EUR a month

_ACTOR_TYPE = {BUSINESS: ORGANIZATION, CLUB: ORGANIZATION, CITY: ORGANIZATION, GROUP: GROUP_TYPE}


async def create(
    session: AsyncSession,
    urls: LocalUrls,
    *,
    username: str,
    email: str,
    password: str,
    kind: str = "resident",
    role: str = USER,
    display_name: str = "",
    is_approved: bool = True,
    now: datetime,
) -> Account:
    """Register a local account with its actor and a fresh RSA-2048 key pair; raises Invalid."""
    _check_username(username)
    email = _check_email(email)
    _check_password(password)
    if kind not in ACCOUNT_KINDS:
        raise Invalid("kind", "ERR_INVALID", f"kind must be one of {', '.join(ACCOUNT_KINDS)}")
    if role not in ROLES:
        raise Invalid("role", "ERR_INVALID", f"role must be one of {', '.join(ROLES)}")
    if await _username_taken(session, username):
        raise Invalid("username", "ERR_TAKEN", f"the username {username!r} is already taken")
    if await session.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise Invalid("email", "ERR_TAKEN", "an account with this e-mail address exists already")
    actor = await _create_actor(session, urls, username, _ACTOR_TYPE.get(kind, PERSON), display_name, now)
    account = Account(
        actor_id=actor.id, email=email, password_hash=passwords.hash_password(password), kind=kind,
        role=role, is_approved=is_approved, created_at=now, last_active_at=now,
    )
    account.actor = actor
    session.add(account)
    if kind == BUSINESS:
        session.add(Shop(actor_id=actor.id, trial_ends_at=now + TRIAL_PERIOD, paid_until=None, created_at=now))
    await session.flush()
    return account


async def _create_actor(
    session: AsyncSession, urls: LocalUrls, username: str, actor_type: str, display_name: str, now: datetime
) -> Actor:
    private_pem, public_pem = generate_key_pair()
    ap_id = urls.actor(username)
    actor = Actor(
        ap_id=ap_id, kind=actor_type, username=username, username_key=username.lower(), domain="",
        display_name=display_name, url=urls.profile(username), inbox_url=urls.inbox(username),
        shared_inbox_url=urls.shared_inbox, outbox_url=urls.outbox(username),
        followers_url=urls.followers(username), following_url=urls.following(username),
        featured_url=urls.featured(username), public_key_id=urls.key_id(ap_id), public_key_pem=public_pem,
        published_at=now, updated_at=now,
    )
    session.add(actor)
    await session.flush()
    session.add(ActorKey(actor_id=actor.id, private_key_pem=private_pem))
    return actor


async def ensure_instance_actor(session: AsyncSession, urls: LocalUrls, *, now: datetime) -> Actor:
    """The instance's own Application actor, which signs fetches; created on first start."""
    existing = (await session.scalars(select(Actor).where(Actor.ap_id == urls.instance_actor))).first()
    if existing is not None:
        return existing
    private_pem, public_pem = generate_key_pair()
    actor = Actor(
        ap_id=urls.instance_actor, kind=APPLICATION, username=urls.domain, username_key=urls.domain.lower(),
        domain="", display_name=urls.domain, url=f"{urls.base_url}/about/more?instance_actor=true",
        inbox_url=f"{urls.instance_actor}/inbox", shared_inbox_url=urls.shared_inbox,
        outbox_url=f"{urls.instance_actor}/outbox", public_key_id=urls.key_id(urls.instance_actor),
        public_key_pem=public_pem, manually_approves_followers=True, is_discoverable=False,
        published_at=now, updated_at=now,
    )
    session.add(actor)
    await session.flush()
    session.add(ActorKey(actor_id=actor.id, private_key_pem=private_pem))
    await session.flush()
    return actor


async def find_instance_actor(session: AsyncSession, urls: LocalUrls) -> Actor:
    """The instance actor created at start-up; raises NotFound before the first start."""
    actor = (await session.scalars(select(Actor).where(Actor.ap_id == urls.instance_actor))).first()
    if actor is None:
        raise NotFound("the instance actor has not been created yet")
    return actor


async def find_by_username(session: AsyncSession, username: str) -> Account:
    """The local account with this username (any case); raises NotFound."""
    query = select(Account).join(Account.actor).where(Actor.domain == "", Actor.username_key == username.lower())
    account = (await session.scalars(query)).first()
    if account is None:
        raise NotFound(f"there is no account @{username} here")
    return account


async def authenticate(session: AsyncSession, login: str, password: str) -> Account | None:
    """The account whose e-mail (or username) and password match, else None."""
    login = login.strip()
    query = select(Account).join(Account.actor)
    if "@" in login:
        query = query.where(Account.email == login.lower())
    else:
        query = query.where(Actor.domain == "", Actor.username_key == login.lower())
    account = (await session.scalars(query)).first()
    if not passwords.verify_login(account.password_hash if account is not None else None, password):
        return None
    return account


async def count_users(session: AsyncSession, *, active_since: datetime | None = None) -> int:
    """How many approved, unsuspended accounts of people there are (optionally: active since a moment). Groups
    are accounts too but nobody's; the instance actor has no account at all."""
    query = select(func.count(Account.id)).where(Account.is_approved.is_(True), Account.is_suspended.is_(False),
                                                 Account.kind != GROUP)
    if active_since is not None:
        query = query.where(Account.last_active_at >= active_since)
    return int(await session.scalar(query) or 0)


def is_admin(account: Account) -> bool:
    return account.role == ADMIN


async def _username_taken(session: AsyncSession, username: str) -> bool:
    query = select(Actor.id).where(Actor.domain == "", Actor.username_key == username.lower())
    return await session.scalar(query) is not None


def _check_username(username: str) -> None:
    if not USERNAME.match(username):
        raise Invalid(
            "username", "ERR_INVALID",
            "a username has 1 to 30 characters: letters, digits and underscores only",
        )
    if username.lower() in RESERVED:
        raise Invalid("username", "ERR_RESERVED", f"the username {username!r} is reserved")


def _check_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 320:
        raise Invalid("email", "ERR_INVALID", f"{email!r} is not an e-mail address")
    return email


def _check_password(password: str) -> None:
    if not passwords.MIN_LENGTH <= len(password) <= passwords.MAX_LENGTH:
        raise Invalid(
            "password", "ERR_TOO_SHORT" if len(password) < passwords.MIN_LENGTH else "ERR_TOO_LONG",
            f"a password has {passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} characters",
        )


async def signing_key(session: AsyncSession, actor_ap_id: str) -> tuple[str, str]:
    """(key id, private PEM) of one of our actors, for signing what it sends; raises NotFound."""
    row = (await session.execute(
        select(Actor.public_key_id, ActorKey.private_key_pem).join(ActorKey, ActorKey.actor_id == Actor.id)
        .where(Actor.ap_id == actor_ap_id, Actor.domain == "")
    )).first()
    if row is None or row.public_key_id is None:
        raise NotFound(f"{actor_ap_id} has no signing key here")
    return row.public_key_id, row.private_key_pem
