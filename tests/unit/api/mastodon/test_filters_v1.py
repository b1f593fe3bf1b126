"""Filters v1: each v1 filter is one keyword of a v2 filter (Mastodon 4's mapping)."""
from __future__ import annotations

from tests.cities import City
from tests.unit.api.mastodon.social import Reader

V1 = "/api/v1/filters"
V2 = "/api/v2/filters"


async def test_v1_filter_crud_in_mastodons_shape_and_as_v2(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    created = (await alice.post(V1, phrase="Baustelle", context=["home", "public"], irreversible=True,
                                whole_word=False, expires_in=3600)).json()
    assert set(created) == {"id", "phrase", "context", "whole_word", "expires_at", "irreversible"}
    assert (created["phrase"], created["context"], created["whole_word"], created["irreversible"]) == \
        ("Baustelle", ["home", "public"], False, True)
    assert created["expires_at"].endswith("Z")
    as_v2 = (await alice.get(V2)).json()
    assert len(as_v2) == 1 and as_v2[0]["title"] == "Baustelle" and as_v2[0]["filter_action"] == "hide"
    assert [k["id"] for k in as_v2[0]["keywords"]] == [created["id"]]
    assert (await alice.get(V1)).json() == [created]
    assert (await alice.get(f"{V1}/{created['id']}")).json() == created
    changed = (await alice.put(f"{V1}/{created['id']}", phrase="Stau", context=["thread"], irreversible=False,
                               whole_word=True)).json()
    assert (changed["phrase"], changed["context"], changed["irreversible"], changed["whole_word"]) == \
        ("Stau", ["thread"], False, True)
    assert (await alice.get(V2)).json()[0]["title"] == "Baustelle"  # Mastodon's v1 update keeps the title
    assert (await alice.delete(f"{V1}/{created['id']}")).json() == {}
    assert (await alice.get(f"{V1}/{created['id']}")).status_code == 404
    assert (await alice.get(V1)).json() == []


async def test_v1_lists_every_keyword_of_v2_filters_and_guards_shared_settings(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    v2 = (await alice.post(V2, title="Sport", context=["home"], filter_action="warn",
                           keywords_attributes=[{"keyword": "Tor"}, {"keyword": "Elfmeter", "whole_word": False}])).json()
    listed = (await alice.get(V1)).json()
    assert [(item["phrase"], item["whole_word"], item["context"], item["irreversible"]) for item in listed] == [
        ("Tor", True, ["home"], False), ("Elfmeter", False, ["home"], False)]
    first = listed[0]["id"]
    assert (await alice.put(f"{V1}/{first}", phrase="Tore")).json()["phrase"] == "Tore"  # the keyword alone
    shared = await alice.put(f"{V1}/{first}", context=["public"])
    assert shared.status_code == 422 and "more than one filter keyword" in shared.json()["error"]
    unchanged = await alice.put(f"{V1}/{first}", context=["home"], irreversible=False)
    assert unchanged.status_code == 200
    assert (await alice.get(f"{V2}/{v2['id']}")).json()["context"] == ["home"]


async def test_v1_filter_input_is_checked_private_and_scoped(moers: City) -> None:
    for name in ("alice", "bob"):
        await moers.create_account(name)
    alice, bob = await Reader.of(moers, "alice"), await Reader.of(moers, "bob")
    blank = await alice.post(V1, phrase=" ", context=["home"])
    assert blank.status_code == 422 and "Phrase can't be blank" in blank.json()["error"]
    no_context = await alice.post(V1, phrase="x")
    assert no_context.status_code == 422 and "Context" in no_context.json()["error"]
    bad_context = await alice.post(V1, phrase="x", context=["everywhere"])
    assert bad_context.status_code == 422
    bad_expiry = await alice.post(V1, phrase="x", context=["home"], expires_in="bald")
    assert bad_expiry.status_code == 422 and "not a number" in bad_expiry.json()["error"]
    created = (await alice.post(V1, phrase="x", context=["home"])).json()
    assert created["expires_at"] is None and created["irreversible"] is False and created["whole_word"] is True
    for response in (await bob.get(f"{V1}/{created['id']}"), await bob.put(f"{V1}/{created['id']}", phrase="y"),
                     await bob.delete(f"{V1}/{created['id']}")):
        assert response.status_code == 404 and response.json()["error"] == "Record not found"
    assert (await bob.get(V1)).json() == []
    reader = await Reader.of(moers, "alice", scopes="read:filters")
    assert (await reader.get(V1)).status_code == 200
    assert (await reader.post(V1, phrase="y", context=["home"])).status_code == 403
    assert (await (await Reader.of(moers, "alice", scopes="write:filters")).get(V1)).status_code == 403
