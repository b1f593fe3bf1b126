"""Accounts across cities through the API: find a remote resident by WebFinger and follow them; delete an
account and see every server that knew it forget it (tests/federation/cities.py: two cities in one process)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from fedserver import housekeeping
from fedserver.db import utcnow
from fedserver.local import account_deletion
from fedserver.local.models.actors import Actor, ActorKey
from fedserver.local.models.interactions import ACCEPTED, Follow
from fedserver.outbox.published import PublishedActivity
from tests.cities import PASSWORD
from tests.federation.cities import federation, stored_texts
from tests.unit.api.mastodon.social import Reader


async def test_search_resolves_a_remote_handle_and_follow_federates(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = fed["moers.test"], fed["solingen.test"]
        await moers.create_account("alice")
        await solingen.create_account("bob")
        alice = await Reader.of(moers, "alice")
        assert (await alice.get("/api/v1/accounts/search", q="bob@solingen.test")).json() == []
        found = (await alice.get("/api/v1/accounts/search", q="@bob@solingen.test", resolve="true")).json()
        assert [account["acct"] for account in found] == ["bob@solingen.test"]
        bob_id = found[0]["id"]
        asked = (await alice.post(f"/api/v1/accounts/{bob_id}/follow", reblogs=False)).json()
        assert (asked["following"], asked["requested"], asked["showing_reblogs"]) == (False, True, False)
        await fed.drain()
        now = (await alice.get("/api/v1/accounts/relationships", **{"id[]": bob_id})).json()[0]
        assert (now["following"], now["requested"], now["showing_reblogs"]) == (True, False, False)
        async with solingen.site.sessions() as session:
            assert (await session.scalars(select(Follow.state))).all() == [ACCEPTED]
        assert [a["acct"] for a in (await alice.get(f"/api/v1/accounts/{found[0]['id']}/followers")).json()] == \
            ["alice"]
        await alice.post(f"/api/v1/accounts/{bob_id}/unfollow")
        await fed.drain()
        async with solingen.site.sessions() as session:
            assert (await session.scalars(select(Follow))).all() == []


async def test_resolving_a_handle_on_an_unreachable_server_finds_nothing(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test") as fed:
        moers = fed["moers.test"]
        await moers.create_account("alice")
        alice = await Reader.of(moers, "alice")
        found = await alice.get("/api/v1/accounts/search", q="bob@solingen.test", resolve="true")
        assert found.status_code == 200 and found.json() == []


async def test_a_deleted_account_is_forgotten_by_every_server_that_knew_it(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test", "krefeld.test") as fed:
        moers, solingen, krefeld = fed["moers.test"], fed["solingen.test"], fed["krefeld.test"]
        await moers.create_account("alice")
        await solingen.create_account("bob")
        await krefeld.create_account("carla")
        bob = await Reader.of(solingen, "bob")
        alice_there = (await bob.get("/api/v1/accounts/search", q="alice@moers.test", resolve="true")).json()[0]
        await bob.post(f"/api/v1/accounts/{alice_there['id']}/follow")
        await fed.drain()
        await moers.post("alice", "Abschied aus Moers")
        alice = await Reader.of(moers, "alice")
        carla_here = (await alice.get("/api/v1/accounts/search", q="carla@krefeld.test", resolve="true")).json()[0]
        await alice.post(f"/api/v1/accounts/{carla_here['id']}/follow")  # krefeld knows alice as a follower
        await fed.drain()
        assert "Abschied" in " ".join(await stored_texts(solingen))

        assert (await alice.post("/api/v1/fedserver/accounts/delete", password=PASSWORD)).status_code == 200
        async with moers.site.sessions() as session:  # a tombstone keeps the key until the Delete is out
            tombstone = (await session.scalars(select(Actor).where(Actor.username == "alice"))).one()
            assert tombstone.kind == account_deletion.TOMBSTONE and tombstone.display_name == ""
            assert await session.get(ActorKey, tombstone.id) is not None
        assert (await moers.client.get("/.well-known/webfinger",
                                       params={"resource": "acct:alice@moers.test"})).status_code == 404
        await fed.drain()
        for city in (solingen, krefeld):
            async with city.site.sessions() as session:
                assert await session.scalar(select(func.count(Actor.id)).where(
                    Actor.ap_id == "https://moers.test/users/alice")) == 0, city.settings.domain
                assert await session.scalar(select(func.count(Follow.id))) == 0
        assert await stored_texts(solingen) == []
        await housekeeping.tidy(moers.site.sessions, since=utcnow(), now=utcnow())  # the hourly round
        async with moers.site.sessions() as session:
            assert await session.scalar(select(func.count(Actor.id)).where(Actor.username == "alice")) == 0
            assert await session.scalar(select(func.count(PublishedActivity.id)).where(
                PublishedActivity.actor_ap_id == "https://moers.test/users/alice")) == 0


async def test_a_tombstone_stays_while_its_delete_is_still_being_retried(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = fed["moers.test"], fed["solingen.test"]
        await moers.create_account("alice")
        await solingen.create_account("bob")
        bob = await Reader.of(solingen, "bob")
        alice_there = (await bob.get("/api/v1/accounts/search", q="alice@moers.test", resolve="true")).json()[0]
        await bob.post(f"/api/v1/accounts/{alice_there['id']}/follow")
        await fed.drain()
        fed.router.take_down("solingen.test")
        alice = await Reader.of(moers, "alice")
        await alice.post("/api/v1/fedserver/accounts/delete", password=PASSWORD)
        await fed.drain()
        async with moers.site.sessions() as session, session.begin():
            assert await account_deletion.purge_tombstones(session) == 0  # the Delete waits for a retry
        fed.router.bring_back("solingen.test")
        await fed.drain(utcnow() + timedelta(hours=1))
        async with solingen.site.sessions() as session:
            assert await session.scalar(select(func.count(Actor.id)).where(Actor.domain == "moers.test")) == 0
        async with moers.site.sessions() as session, session.begin():
            assert await account_deletion.purge_tombstones(session) == 1
