"""Relationships: follow (with reblogs and notify), unfollow, block, mute, follow requests, relationships,
familiar followers; each answers Mastodon's Relationship entity."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fedserver.db import utcnow
from fedserver.local.models.interactions import Block, Follow, Mute
from fedserver.local.models.notifications import Notification
from tests.cities import City
from tests.unit.api.mastodon.social import Reader, actor_of, block_domain

RELATIONSHIP_KEYS = {"id", "following", "showing_reblogs", "notifying", "languages", "followed_by", "blocking",
                     "blocked_by", "muting", "muting_notifications", "requested", "requested_by", "domain_blocking",
                     "endorsed", "note"}


async def _pair(city: City) -> tuple[Reader, str, Reader, str]:
    await city.create_account("alice")
    await city.create_account("bob")
    alice_id, bob_id = str((await actor_of(city, "alice")).id), str((await actor_of(city, "bob")).id)
    return await Reader.of(city, "alice"), alice_id, await Reader.of(city, "bob"), bob_id


async def test_follow_answers_a_relationship_and_options_change_on_refollow(moers: City) -> None:
    alice, alice_id, bob, bob_id = await _pair(moers)
    first = await alice.post(f"/api/v1/accounts/{bob_id}/follow", reblogs=False)
    assert first.status_code == 200, first.text
    assert set(first.json()) == RELATIONSHIP_KEYS
    expected = {"id": bob_id, "following": True, "showing_reblogs": False, "notifying": False, "requested": False,
                "followed_by": False, "blocking": False, "muting": False, "note": "", "languages": None}
    assert {key: first.json()[key] for key in expected} == expected
    again = (await alice.post(f"/api/v1/accounts/{bob_id}/follow", notify=True)).json()
    assert (again["showing_reblogs"], again["notifying"]) == (False, True)
    seen_by_bob = (await bob.get("/api/v1/accounts/relationships", **{"id[]": alice_id})).json()
    assert seen_by_bob[0]["followed_by"] is True and seen_by_bob[0]["following"] is False


async def test_following_a_locked_account_is_a_request_until_authorized(moers: City) -> None:
    alice, alice_id, bob, bob_id = await _pair(moers)
    await moers.client.patch("/api/v1/accounts/update_credentials", headers=bob.headers, json={"locked": True})
    asked = (await alice.post(f"/api/v1/accounts/{bob_id}/follow")).json()
    assert (asked["following"], asked["requested"]) == (False, True)
    requests = await bob.get("/api/v1/follow_requests")
    assert [account["id"] for account in requests.json()] == [alice_id] and "Link" in requests.headers
    assert (await bob.get(f"/api/v1/accounts/{alice_id}/following")).json() == []
    authorized = await bob.post(f"/api/v1/follow_requests/{alice_id}/authorize")
    assert authorized.status_code == 200 and authorized.json()["followed_by"] is True
    assert (await bob.get("/api/v1/follow_requests")).json() == []
    assert (await bob.post(f"/api/v1/follow_requests/{alice_id}/authorize")).status_code == 404


async def test_a_rejected_request_leaves_no_follow_and_no_notification(moers: City) -> None:
    alice, alice_id, bob, bob_id = await _pair(moers)
    await moers.client.patch("/api/v1/accounts/update_credentials", headers=bob.headers, json={"locked": "1"})
    await alice.post(f"/api/v1/accounts/{bob_id}/follow")
    rejected = await bob.post(f"/api/v1/follow_requests/{alice_id}/reject")
    assert rejected.status_code == 200 and rejected.json()["requested_by"] is False
    async with moers.site.sessions() as session:
        assert (await session.scalars(select(Follow))).all() == []
        assert (await session.scalars(select(Notification))).all() == []


async def test_unfollow_withdraws_a_request_and_its_notification(moers: City) -> None:
    alice, _alice_id, bob, bob_id = await _pair(moers)
    await moers.client.patch("/api/v1/accounts/update_credentials", headers=bob.headers, json={"locked": True})
    await alice.post(f"/api/v1/accounts/{bob_id}/follow")
    undone = (await alice.post(f"/api/v1/accounts/{bob_id}/unfollow")).json()
    assert (undone["following"], undone["requested"]) == (False, False)
    async with moers.site.sessions() as session:
        assert (await session.scalars(select(Notification))).all() == []


async def test_remove_from_followers(moers: City) -> None:
    alice, alice_id, bob, bob_id = await _pair(moers)
    await alice.post(f"/api/v1/accounts/{bob_id}/follow")
    removed = (await bob.post(f"/api/v1/accounts/{alice_id}/remove_from_followers")).json()
    assert removed["followed_by"] is False


async def test_block_ends_follows_both_ways_and_forbids_following(moers: City) -> None:
    alice, alice_id, bob, bob_id = await _pair(moers)
    await alice.post(f"/api/v1/accounts/{bob_id}/follow")
    await bob.post(f"/api/v1/accounts/{alice_id}/follow")
    blocked = (await alice.post(f"/api/v1/accounts/{bob_id}/block")).json()
    assert (blocked["blocking"], blocked["following"], blocked["followed_by"]) == (True, False, False)
    assert (await bob.get("/api/v1/accounts/relationships", **{"id[]": alice_id})).json()[0]["blocked_by"] is True
    assert (await bob.post(f"/api/v1/accounts/{alice_id}/follow")).status_code == 403
    assert [account["id"] for account in (await alice.get("/api/v1/blocks")).json()] == [bob_id]
    unblocked = (await alice.post(f"/api/v1/accounts/{bob_id}/unblock")).json()
    assert unblocked["blocking"] is False
    assert (await bob.post(f"/api/v1/accounts/{alice_id}/follow")).status_code == 200


async def test_blocking_or_muting_oneself_does_nothing_and_following_oneself_is_404(moers: City) -> None:
    alice, alice_id, _bob, _bob_id = await _pair(moers)
    assert (await alice.post(f"/api/v1/accounts/{alice_id}/block")).json()["blocking"] is False
    assert (await alice.post(f"/api/v1/accounts/{alice_id}/mute")).json()["muting"] is False
    assert (await alice.post(f"/api/v1/accounts/{alice_id}/follow")).status_code == 404
    async with moers.site.sessions() as session:
        assert (await session.scalars(select(Block))).all() == [] and (await session.scalars(select(Mute))).all() == []


async def test_mute_with_duration_and_without_notifications(moers: City) -> None:
    alice, _alice_id, _bob, bob_id = await _pair(moers)
    muted = (await alice.post(f"/api/v1/accounts/{bob_id}/mute", notifications=False, duration=3600)).json()
    assert (muted["muting"], muted["muting_notifications"]) == (True, False)
    listed = (await alice.get("/api/v1/mutes")).json()
    assert [account["id"] for account in listed] == [bob_id] and listed[0]["mute_expires_at"].endswith("Z")
    async with moers.site.sessions() as session, session.begin():
        row = (await session.scalars(select(Mute))).one()
        row.expires_at = utcnow() - timedelta(seconds=1)  # the hour is over
    assert (await alice.get("/api/v1/accounts/relationships", **{"id[]": bob_id})).json()[0]["muting"] is False
    assert (await alice.get("/api/v1/mutes")).json() == []
    again = (await alice.post(f"/api/v1/accounts/{bob_id}/mute")).json()
    assert (again["muting"], again["muting_notifications"]) == (True, True)
    assert (await alice.get("/api/v1/mutes")).json()[0]["mute_expires_at"] is None
    assert (await alice.post(f"/api/v1/accounts/{bob_id}/unmute")).json()["muting"] is False


@pytest.mark.parametrize("duration", ["soon", "-5"])
async def test_mute_with_a_bad_duration_is_422(moers: City, duration: str) -> None:
    alice, _alice_id, _bob, bob_id = await _pair(moers)
    response = await alice.post(f"/api/v1/accounts/{bob_id}/mute", duration=duration)
    assert response.status_code == 422 and "duration" in response.json()["details"]


async def test_relationships_keep_the_order_asked_and_skip_unknown_ids(moers: City) -> None:
    alice, alice_id, _bob, bob_id = await _pair(moers)
    await block_domain(moers, "alice", "solingen.test")
    found = await moers.client.get("/api/v1/accounts/relationships", headers=alice.headers,
                                   params=[("id[]", bob_id), ("id[]", "999"), ("id[]", "x"), ("id[]", alice_id),
                                           ("id[]", bob_id)])
    assert [item["id"] for item in found.json()] == [bob_id, alice_id]
    assert (await alice.get("/api/v1/accounts/relationships")).json() == []
    single = await moers.client.get("/api/v1/accounts/relationships", headers=alice.headers, params={"id": bob_id})
    assert [item["id"] for item in single.json()] == [bob_id]


async def test_familiar_followers_are_followed_accounts_that_follow_too(moers: City) -> None:
    alice, alice_id, bob, bob_id = await _pair(moers)
    await moers.create_account("carla")
    carla = await Reader.of(moers, "carla")
    carla_id = str((await actor_of(moers, "carla")).id)
    await alice.post(f"/api/v1/accounts/{carla_id}/follow")
    await carla.post(f"/api/v1/accounts/{bob_id}/follow")
    familiar = (await alice.get("/api/v1/accounts/familiar_followers", **{"id[]": [bob_id, alice_id]})).json()
    assert [(item["id"], [account["id"] for account in item["accounts"]]) for item in familiar] == \
        [(bob_id, [carla_id]), (alice_id, [])]


@pytest.mark.parametrize("method, path", [
    ("post", "/api/v1/accounts/{id}/follow"), ("post", "/api/v1/accounts/{id}/unfollow"),
    ("post", "/api/v1/accounts/{id}/block"), ("post", "/api/v1/accounts/{id}/unblock"),
    ("post", "/api/v1/accounts/{id}/mute"), ("post", "/api/v1/accounts/{id}/unmute"),
    ("post", "/api/v1/follow_requests/{id}/authorize"), ("post", "/api/v1/follow_requests/{id}/reject"),
])
async def test_actions_need_a_token_the_scope_and_a_known_account(moers: City, method: str, path: str) -> None:
    _alice, _alice_id, _bob, bob_id = await _pair(moers)
    reader = await Reader.of(moers, "alice", "read")
    url = path.format(id=bob_id)
    assert (await getattr(moers.client, method)(url)).status_code == 401
    assert (await getattr(moers.client, method)(url, headers=reader.headers)).status_code == 403
    writer = await Reader.of(moers, "alice", "follow")  # the old `follow` scope covers all of these
    assert (await getattr(moers.client, method)(path.format(id=12345), headers=writer.headers)).status_code == 404


async def test_granular_scopes_are_enforced(moers: City) -> None:
    _alice, _alice_id, _bob, bob_id = await _pair(moers)
    mutes_only = await Reader.of(moers, "alice", "write:mutes read:mutes")
    assert (await mutes_only.post(f"/api/v1/accounts/{bob_id}/mute")).status_code == 200
    assert (await mutes_only.post(f"/api/v1/accounts/{bob_id}/block")).status_code == 403
    assert (await mutes_only.post(f"/api/v1/accounts/{bob_id}/follow")).status_code == 403
    assert (await mutes_only.get("/api/v1/accounts/relationships", **{"id[]": bob_id})).status_code == 403
