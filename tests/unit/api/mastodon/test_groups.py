"""Groups through the Mastodon API: a group is an account with group: true, following is joining, mentioning
is posting into it; /api/v1/fedserver/groups manages it (docs/groups.md)."""
from __future__ import annotations

from tests.cities import City
from tests.unit.api.mastodon.social import Reader, actor_of

GROUPS = "/api/v1/fedserver/groups"


async def test_group_is_founded_joined_with_approval_and_posted_into(moers: City) -> None:
    for name in ("alice", "bob", "carla"):
        await moers.create_account(name)
    alice, bob, carla = (await Reader.of(moers, "alice")), (await Reader.of(moers, "bob")), (await Reader.of(moers, "carla"))
    created = await alice.post(GROUPS, username="treff", display_name="Treff", description="Repelen",
                               join_mode="approval", rules="Freundlich bleiben", topic="nachbarschaft")
    assert created.status_code == 200, created.text
    group = created.json()
    assert (group["join_mode"], group["posting_mode"], group["private"], group["role"], group["member"]) == (
        "approval", "members", False, "admin", True)
    assert group["account"]["group"] is True and group["account"]["locked"] is True
    assert (await bob.get(f"/api/v1/accounts/{group['id']}")).json()["acct"] == "treff"
    finger = await moers.client.get("/.well-known/webfinger", params={"resource": "acct:treff@moers.test"})
    assert finger.status_code == 200
    document = (await moers.client.get("/users/treff", headers={"Accept": "application/activity+json"})).json()
    assert document["type"] == "Group"

    joined = (await bob.post(f"/api/v1/accounts/{group['id']}/follow")).json()
    assert joined["requested"] is True and joined["following"] is False
    bob_id = str((await actor_of(moers, "bob")).id)
    assert [account["id"] for account in (await alice.get(f"{GROUPS}/{group['id']}/requests")).json()] == [bob_id]
    assert (await carla.get(f"{GROUPS}/{group['id']}/requests")).status_code == 403
    assert (await alice.post(f"{GROUPS}/{group['id']}/requests/{bob_id}/authorize")).status_code == 200
    members = (await carla.get(f"{GROUPS}/{group['id']}/members")).json()
    assert sorted(account["acct"] for account in members) == ["alice", "bob"]

    posted = (await bob.post("/api/v1/statuses", status="@treff Wer leiht mir eine Leiter?")).json()
    timeline = (await carla.get(f"/api/v1/accounts/{group['id']}/statuses")).json()
    assert [item["reblog"]["id"] for item in timeline] == [posted["id"]]
    outsider = (await carla.post("/api/v1/statuses", status="@treff Werbung!")).json()
    assert [item["reblog"]["id"] for item in (await carla.get(f"/api/v1/accounts/{group['id']}/statuses")).json()] \
        == [posted["id"]]  # carla is no member: not announced
    assert outsider["id"] != posted["id"]

    removed = await alice.delete(f"{GROUPS}/{group['id']}/statuses/{posted['id']}", reason="doppelt")
    assert removed.status_code == 200, removed.text
    assert (await carla.get(f"/api/v1/accounts/{group['id']}/statuses")).json() == []
    assert (await bob.get(f"/api/v1/statuses/{posted['id']}")).status_code == 200  # still bob's own post


async def test_ban_ends_membership_and_rejoining_is_refused(moers: City) -> None:
    for name in ("alice", "bob"):
        await moers.create_account(name)
    alice, bob = (await Reader.of(moers, "alice")), (await Reader.of(moers, "bob"))
    group = (await alice.post(GROUPS, username="treff")).json()
    await bob.post(f"/api/v1/accounts/{group['id']}/follow")
    bob_id = str((await actor_of(moers, "bob")).id)
    banned = await alice.post(f"{GROUPS}/{group['id']}/bans", account_id=bob_id, reason="Werbung")
    assert banned.status_code == 200, banned.text
    assert [account["acct"] for account in (await alice.get(f"{GROUPS}/{group['id']}/members")).json()] == ["alice"]
    assert [(ban["account"]["id"], ban["reason"]) for ban in (await alice.get(f"{GROUPS}/{group['id']}/bans")).json()] \
        == [(bob_id, "Werbung")]
    refused = await bob.post(f"/api/v1/accounts/{group['id']}/follow")
    assert refused.status_code == 403 and "banned" in refused.json()["error"]
    assert (await alice.delete(f"{GROUPS}/{group['id']}/bans/{bob_id}")).status_code == 200
    assert (await bob.post(f"/api/v1/accounts/{group['id']}/follow")).json()["following"] is True


async def test_settings_roles_and_refusals(moers: City) -> None:
    for name in ("alice", "bob"):
        await moers.create_account(name)
    alice, bob = (await Reader.of(moers, "alice")), (await Reader.of(moers, "bob"))
    assert (await alice.post(GROUPS, display_name="ohne Namen")).status_code == 422
    assert (await alice.post(GROUPS, username="treff", join_mode="sometimes")).status_code == 422
    group = (await alice.post(GROUPS, username="treff")).json()
    assert (await alice.post(GROUPS, username="treff")).status_code == 422  # taken
    assert (await bob.put(f"{GROUPS}/{group['id']}", private=True)).status_code == 403
    changed = (await alice.put(f"{GROUPS}/{group['id']}", private=True, posting_mode="anyone",
                               local_only=True)).json()
    assert (changed["private"], changed["posting_mode"], changed["local_only"]) == (True, "anyone", True)
    assert (await bob.get(f"{GROUPS}/{group['id']}/members")).status_code == 403  # private: members only
    bob_id = str((await actor_of(moers, "bob")).id)
    assert (await alice.post(f"{GROUPS}/{group['id']}/roles", account_id=bob_id, role="moderator")).status_code == 200
    assert [(item["account"]["acct"], item["role"]) for item in
            (await bob.get(f"{GROUPS}/{group['id']}/roles")).json()] == [("alice", "admin"), ("bob", "moderator")]
    assert (await bob.get(f"{GROUPS}/{group['id']}")).json()["role"] == "moderator"
    assert (await alice.delete(f"{GROUPS}/{group['id']}/roles/{str((await actor_of(moers, 'alice')).id)}")
            ).status_code == 403  # the last admin stays
    assert (await alice.post(f"{GROUPS}/{group['id']}/roles", account_id=bob_id, role="king")).status_code == 422
    assert (await alice.get(f"{GROUPS}/999")).status_code == 404
    assert (await alice.post(f"{GROUPS}/{group['id']}/bans")).status_code == 422
    assert [item["id"] for item in (await bob.get(GROUPS)).json()] == [group["id"]]
    login = await moers.client.post("/oauth/token", data={"grant_type": "password", "username": "treff",
                                                          "password": "!"})
    assert login.status_code != 200  # a group founded here cannot log in


async def test_groups_are_not_counted_as_users(moers: City) -> None:
    """NodeInfo usage.users and the instance's user_count count people: not groups, nor the instance actor."""
    await moers.create_account("alice")
    await moers.create_account("bob")
    await moers.create_account("verein", kind="group")  # `fedserver account create --kind group`
    alice = await Reader.of(moers, "alice")
    assert (await alice.post(GROUPS, username="treff")).status_code == 200
    nodeinfo = (await moers.client.get("/nodeinfo/2.1")).json()
    instance = (await moers.client.get("/api/v1/instance")).json()
    v2 = (await moers.client.get("/api/v2/instance")).json()
    assert nodeinfo["usage"]["users"] == {"total": 2, "activeMonth": 2, "activeHalfyear": 2}
    assert instance["stats"]["user_count"] == 2
    assert v2["usage"]["users"]["active_month"] == 2


async def test_removed_posts_are_listed_for_moderators_and_the_author_may_post_again(moers: City) -> None:
    for name in ("alice", "bob", "carla"):
        await moers.create_account(name)
    alice, bob, carla = (await Reader.of(moers, "alice")), (await Reader.of(moers, "bob")), (await Reader.of(moers, "carla"))
    group = (await alice.post(GROUPS, username="treff")).json()
    await bob.post(f"/api/v1/accounts/{group['id']}/follow")
    first = (await bob.post("/api/v1/statuses", status="@treff Flohmarkt am Samstag, " + "sehr " * 60)).json()
    second = (await bob.post("/api/v1/statuses", status="@treff Nochmal Flohmarkt")).json()
    assert (await alice.get(f"{GROUPS}/{group['id']}/removed_posts")).json() == []
    assert (await alice.delete(f"{GROUPS}/{group['id']}/statuses/{first['id']}", reason=" doppelt ")).status_code == 200
    assert (await alice.delete(f"{GROUPS}/{group['id']}/statuses/{second['id']}")).status_code == 200

    listed = await alice.get(f"{GROUPS}/{group['id']}/removed_posts")
    assert listed.status_code == 200, listed.text
    newest, oldest = listed.json()
    assert (newest["uri"], newest["reason"], oldest["uri"], oldest["reason"]) == (second["uri"], "", first["uri"],
                                                                                   "doppelt")
    assert oldest["account"]["acct"] == "bob" and oldest["removed_by"]["acct"] == "alice"
    assert oldest["excerpt"].startswith("@treff Flohmarkt am Samstag, sehr") and oldest["excerpt"].endswith("sehr…")
    assert "<" not in oldest["excerpt"]  # the mention's link markup is dropped
    assert len(oldest["excerpt"]) <= 201
    one = await alice.get(f"{GROUPS}/{group['id']}/removed_posts", limit=1)
    assert [item["id"] for item in one.json()] == [newest["id"]] and "rel=\"next\"" in one.headers["Link"]
    older = (await alice.get(f"{GROUPS}/{group['id']}/removed_posts", max_id=newest["id"])).json()
    assert [item["id"] for item in older] == [oldest["id"]]
    assert (await carla.get(f"{GROUPS}/{group['id']}/removed_posts")).status_code == 403
    assert (await bob.get(f"{GROUPS}/{group['id']}/removed_posts")).status_code == 403
    assert (await alice.get(f"{GROUPS}/999/removed_posts")).status_code == 404
    assert (await moers.client.get(f"{GROUPS}/{group['id']}/removed_posts")).status_code == 401

    again = (await bob.post("/api/v1/statuses", status="@treff Neuer Beitrag")).json()  # a removal is no ban
    timeline = (await carla.get(f"/api/v1/accounts/{group['id']}/statuses")).json()
    assert [item["reblog"]["id"] for item in timeline] == [again["id"]]
