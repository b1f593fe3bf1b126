"""The streaming hub ends connections whose token stopped working: revoked, or its account suspended or deleted.

The live WebSocket and event-stream behaviour is in tests/clients/test_streaming_revocation.py.
"""
from __future__ import annotations

import asyncio

from sqlalchemy import delete, select, update

from fedserver.api.mastodon.streaming.hub import GOING_AWAY, REVOKED, Client, Hub, new_queue
from fedserver.db import utcnow
from fedserver.local import account_deletion, accounts, oauth
from fedserver.local.models.accounts import Account
from fedserver.local.models.oauth import AccessToken
from tests.api_clients import token_for
from tests.cities import City


async def _client(city: City, username: str) -> tuple[Client, str]:
    token = await token_for(city, username, "read")
    async with city.site.sessions() as session:
        row = (await session.scalars(select(AccessToken).where(AccessToken.token_hash == oauth.digest(token)))).one()
    return Client(row.id, new_queue()), token


async def test_check_tokens_ends_only_the_connection_whose_token_was_revoked(moers: City) -> None:
    for name in ("alice", "bob"):
        await moers.create_account(name)
    hub = Hub(moers.site.sessions)
    (alice, alice_token), (bob, _) = await _client(moers, "alice"), await _client(moers, "bob")
    hub.connect(alice)
    hub.connect(bob)
    assert await hub.check_tokens() == 0
    async with moers.site.sessions() as session, session.begin():
        row = await session.get_one(AccessToken, alice.token_id)
        await oauth.revoke(session, await oauth.app_of(session, row), alice_token)
    assert await hub.check_tokens() == 1
    assert alice.queue.get_nowait() is REVOKED and hub.clients == {bob}
    assert await hub.check_tokens() == 0  # told once, not at every check
    assert alice.queue.empty() and bob.queue.empty()


async def test_check_tokens_ends_connections_of_suspended_and_deleted_accounts(moers: City) -> None:
    for name in ("alice", "bob", "carla"):
        await moers.create_account(name)
    hub = Hub(moers.site.sessions)
    (alice, _), (bob, _), (carla, _) = [await _client(moers, name) for name in ("alice", "bob", "carla")]
    for client in (alice, bob, carla):
        hub.connect(client)
    async with moers.site.sessions() as session, session.begin():
        alice_account = await accounts.find_by_username(session, "alice")
        await session.execute(update(Account).where(Account.id == alice_account.id).values(is_suspended=True))
        bob_account = await accounts.find_by_username(session, "bob")
        await account_deletion.delete_account(session, moers.site.urls, bob_account, utcnow())
    assert await hub.check_tokens() == 2
    assert alice.queue.get_nowait() is REVOKED and bob.queue.get_nowait() is REVOKED
    assert hub.clients == {carla} and carla.queue.empty()


async def test_running_hub_checks_tokens_of_connections_without_subscriptions(moers: City) -> None:
    """A WebSocket that subscribed to nothing yet is watched too, and the loop wakes for it."""
    await moers.create_account("alice")
    hub = Hub(moers.site.sessions, interval=0.01, revalidate=0.05)
    async with hub.running():
        client, _ = await _client(moers, "alice")
        hub.connect(client)
        async with moers.site.sessions() as session, session.begin():
            await session.execute(delete(AccessToken).where(AccessToken.id == client.token_id))
        async with asyncio.timeout(5):
            assert await client.queue.get() is REVOKED
        assert hub.clients == set()
        survivor, _ = await _client(moers, "alice")
        hub.connect(survivor)
    assert survivor.queue.get_nowait() is GOING_AWAY  # shutdown ends connections with no subscription too
