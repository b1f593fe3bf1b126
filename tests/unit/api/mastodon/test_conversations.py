"""Conversations: direct posts grouped by thread, read and hidden per account, private to their audience."""
from __future__ import annotations

from tests.cities import City
from tests.unit.api.mastodon.social import Reader

CONVERSATIONS = "/api/v1/conversations"


async def _people(city: City) -> None:
    for name in ("alice", "bob", "carla"):
        await city.create_account(name)


async def test_direct_thread_is_one_conversation_for_its_audience_only(moers: City) -> None:
    await _people(moers)
    first = await moers.post("alice", "@bob kommst du morgen?", visibility="direct")
    answer = await moers.post("bob", "@alice ja, gern", visibility="direct", in_reply_to=first)
    await moers.post("alice", "Öffentlich")
    alice, bob, carla = [await Reader.of(moers, name) for name in ("alice", "bob", "carla")]
    for reader, other in ((alice, "bob"), (bob, "alice")):
        page = (await reader.get(CONVERSATIONS)).json()
        assert len(page) == 1
        assert set(page[0]) == {"id", "unread", "accounts", "last_status"}
        assert page[0]["id"] == str(first.id) and page[0]["last_status"]["id"] == str(answer.id)
        assert [account["username"] for account in page[0]["accounts"]] == [other]
    assert (await carla.get(CONVERSATIONS)).json() == []
    assert (await carla.post(f"{CONVERSATIONS}/{first.id}/read")).status_code == 404
    assert (await carla.delete(f"{CONVERSATIONS}/{first.id}")).status_code == 404


async def test_conversations_are_unread_until_read(moers: City) -> None:
    await _people(moers)
    first = await moers.post("alice", "@bob Frage", visibility="direct")
    alice, bob = await Reader.of(moers, "alice"), await Reader.of(moers, "bob")
    assert (await alice.get(CONVERSATIONS)).json()[0]["unread"] is False  # she wrote the last post
    assert (await bob.get(CONVERSATIONS)).json()[0]["unread"] is True
    read = (await bob.post(f"{CONVERSATIONS}/{first.id}/read")).json()
    assert read["unread"] is False and read["id"] == str(first.id)
    assert (await bob.get(CONVERSATIONS)).json()[0]["unread"] is False
    await moers.post("alice", "@bob noch was", visibility="direct", in_reply_to=first)
    assert (await bob.get(CONVERSATIONS)).json()[0]["unread"] is True


async def test_removed_conversation_comes_back_with_a_new_post(moers: City) -> None:
    await _people(moers)
    first = await moers.post("alice", "@bob Frage", visibility="direct")
    bob = await Reader.of(moers, "bob")
    assert (await bob.delete(f"{CONVERSATIONS}/{first.id}")).json() == {}
    assert (await bob.get(CONVERSATIONS)).json() == []
    alice = await Reader.of(moers, "alice")
    assert len((await alice.get(CONVERSATIONS)).json()) == 1  # hidden for bob only
    await moers.post("alice", "@bob Hallo?", visibility="direct", in_reply_to=first)
    assert [item["id"] for item in (await bob.get(CONVERSATIONS)).json()] == [str(first.id)]


async def test_conversations_page_by_their_latest_status(moers: City) -> None:
    await _people(moers)
    older = await moers.post("alice", "@bob eins", visibility="direct")
    newer = await moers.post("alice", "@carla zwei", visibility="direct")
    latest = await moers.post("bob", "@alice drei", visibility="direct", in_reply_to=older)
    alice = await Reader.of(moers, "alice")
    assert [item["id"] for item in (await alice.get(CONVERSATIONS)).json()] == [str(older.id), str(newer.id)]
    response = await alice.get(CONVERSATIONS, limit=1)
    assert f"max_id={latest.id}" in response.links["next"]["url"]
    following = (await alice.get(CONVERSATIONS, max_id=str(latest.id))).json()
    assert [item["id"] for item in following] == [str(newer.id)]
    assert [item["id"] for item in (await alice.get(CONVERSATIONS, min_id=str(newer.id))).json()] == [str(older.id)]


async def test_conversations_need_write_conversations_to_change(moers: City) -> None:
    await _people(moers)
    first = await moers.post("alice", "@bob Frage", visibility="direct")
    reader = await Reader.of(moers, "bob", scopes="read")
    assert (await reader.get(CONVERSATIONS)).status_code == 200
    assert (await reader.post(f"{CONVERSATIONS}/{first.id}/read")).status_code == 403
