"""Lists: create, read, rename, delete; members must be followed."""
from __future__ import annotations

from tests.cities import City
from tests.unit.api.mastodon.social import Reader, actor_of, follow

LISTS = "/api/v1/lists"


async def test_list_crud_in_mastodons_shape(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    created = (await alice.post(LISTS, title="Nachbarn")).json()
    assert created == {"id": created["id"], "title": "Nachbarn", "replies_policy": "list", "exclusive": False}
    other = (await alice.post(LISTS, title="Verein", replies_policy="followed", exclusive=True)).json()
    assert [item["title"] for item in (await alice.get(LISTS)).json()] == ["Nachbarn", "Verein"]
    assert (await alice.get(f"{LISTS}/{other['id']}")).json()["replies_policy"] == "followed"
    renamed = (await alice.put(f"{LISTS}/{created['id']}", title="Straße", replies_policy="none")).json()
    assert renamed["title"] == "Straße" and renamed["replies_policy"] == "none"
    assert (await alice.delete(f"{LISTS}/{created['id']}")).json() == {}
    assert (await alice.get(f"{LISTS}/{created['id']}")).status_code == 404


async def test_list_input_is_checked(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    assert (await alice.post(LISTS, title=" ")).status_code == 422
    assert (await alice.post(LISTS, title="X", replies_policy="everyone")).status_code == 422
    assert (await alice.get(f"{LISTS}/123")).status_code == 404
    assert (await alice.get(f"{LISTS}/abc")).status_code == 404


async def test_lists_belong_to_their_owner(moers: City) -> None:
    for name in ("alice", "bob"):
        await moers.create_account(name)
    alice, bob = await Reader.of(moers, "alice"), await Reader.of(moers, "bob")
    list_id = (await alice.post(LISTS, title="Privat")).json()["id"]
    assert (await bob.get(LISTS)).json() == []
    for response in (await bob.get(f"{LISTS}/{list_id}"), await bob.put(f"{LISTS}/{list_id}", title="x"),
                     await bob.delete(f"{LISTS}/{list_id}"), await bob.get(f"{LISTS}/{list_id}/accounts")):
        assert response.status_code == 404
    reader = await Reader.of(moers, "alice", scopes="read:lists")
    assert (await reader.post(LISTS, title="Nein")).status_code == 403


async def test_list_members_must_be_followed(moers: City) -> None:
    for name in ("alice", "bob", "carla"):
        await moers.create_account(name)
    await follow(moers, "alice", "bob")
    alice = await Reader.of(moers, "alice")
    bob, carla = (await actor_of(moers, "bob")).id, (await actor_of(moers, "carla")).id
    list_id = (await alice.post(LISTS, title="Nachbarn")).json()["id"]
    members = f"{LISTS}/{list_id}/accounts"
    assert (await alice.post(members, account_ids=[str(carla)])).status_code == 404
    assert (await alice.post(members, account_ids=[str(bob)])).json() == {}
    assert (await alice.post(members, account_ids=[str(bob)])).status_code == 422
    accounts = (await alice.get(members)).json()
    assert [item["username"] for item in accounts] == ["bob"]
    assert [item["username"] for item in (await alice.get(members, limit=0)).json()] == ["bob"]
    assert [item["title"] for item in (await alice.get(f"/api/v1/accounts/{bob}/lists")).json()] == ["Nachbarn"]
    assert (await alice.delete(members, **{"account_ids[]": str(bob)})).json() == {}
    assert (await alice.get(members)).json() == []
    assert (await alice.get(f"/api/v1/accounts/{bob}/lists")).json() == []


async def test_list_members_page_with_link(moers: City) -> None:
    names = ["alice", "bob", "carla", "dieter"]
    for name in names:
        await moers.create_account(name)
    alice = await Reader.of(moers, "alice")
    list_id = (await alice.post(LISTS, title="Alle")).json()["id"]
    ids = []
    for name in names[1:]:
        await follow(moers, "alice", name)
        ids.append(str((await actor_of(moers, name)).id))
    await alice.post(f"{LISTS}/{list_id}/accounts", account_ids=ids)
    first = await alice.get(f"{LISTS}/{list_id}/accounts", limit=2)
    assert [item["id"] for item in first.json()] == sorted(ids, key=int, reverse=True)[:2]
    assert "max_id" in first.links["next"]["url"]
