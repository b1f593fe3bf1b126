"""Accounts: username and e-mail rules, key pairs, passwords, the instance actor."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from fedserver.activitypub.keys import load_private_key, load_public_key
from fedserver.db import utcnow
from fedserver.local import accounts
from fedserver.local.errors import Invalid, NotFound
from fedserver.local.models.actors import ActorKey
from fedserver.local.models.shops import Shop
from tests.cities import PASSWORD, City


async def test_account_gets_actor_and_matching_key_pair(moers: City) -> None:
    account = await moers.create_account("alice")
    async with moers.site.sessions() as session:
        key = await session.get(ActorKey, account.actor_id)
    assert key is not None
    private = load_private_key(key.private_key_pem)
    assert private.key_size == 2048
    assert private.public_key().public_numbers() == load_public_key(account.actor.public_key_pem or "").public_numbers()
    assert account.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(("username", "code"), [
    ("", "ERR_INVALID"), ("a" * 31, "ERR_INVALID"), ("anna-lena", "ERR_INVALID"), ("anna.lena", "ERR_INVALID"),
    ("jürgen", "ERR_INVALID"), ("admin", "ERR_RESERVED"), ("Support", "ERR_RESERVED"),
])
async def test_bad_usernames_are_refused(moers: City, username: str, code: str) -> None:
    with pytest.raises(Invalid) as caught:
        await moers.create_account(username)
    assert caught.value.field == "username" and caught.value.code == code


async def test_usernames_are_unique_ignoring_case(moers: City) -> None:
    await moers.create_account("Alice")
    with pytest.raises(Invalid, match="already taken") as caught:
        await moers.create_account("alice")
    assert caught.value.code == "ERR_TAKEN"


async def test_email_is_unique_and_lowercased(moers: City) -> None:
    async with moers.site.sessions() as session, session.begin():
        account = await accounts.create(session, moers.site.urls, username="anna", email="Anna@Example.org",
                                        password=PASSWORD, now=utcnow())
        assert account.email == "anna@example.org"
        with pytest.raises(Invalid, match="e-mail"):
            await accounts.create(session, moers.site.urls, username="anna2", email="anna@example.ORG",
                                  password=PASSWORD, now=utcnow())


async def test_login_by_email_or_username(moers: City) -> None:
    await moers.create_account("alice")
    async with moers.site.sessions() as session:
        assert await accounts.authenticate(session, "alice@moers.test.example", PASSWORD) is not None
        assert await accounts.authenticate(session, "ALICE", PASSWORD) is not None
        assert await accounts.authenticate(session, "alice", "wrong password") is None
        assert await accounts.authenticate(session, "nobody", PASSWORD) is None


async def test_business_gets_a_trial_month(moers: City) -> None:
    account = await moers.create_account("laden", kind="business")
    async with moers.site.sessions() as session:
        shop = (await session.scalars(select(Shop).where(Shop.actor_id == account.actor_id))).one()
    assert 29 <= (shop.trial_ends_at - account.created_at).days <= 30
    assert shop.paid_until is None


async def test_instance_actor_exists_once(moers: City) -> None:
    async with moers.site.sessions() as session, session.begin():
        first = await accounts.find_instance_actor(session, moers.site.urls)
        again = await accounts.ensure_instance_actor(session, moers.site.urls, now=utcnow())
    assert first.id == again.id and first.kind == "Application"


async def test_unknown_username_raises_not_found(moers: City) -> None:
    async with moers.site.sessions() as session:
        with pytest.raises(NotFound, match="@nobody"):
            await accounts.find_by_username(session, "nobody")
