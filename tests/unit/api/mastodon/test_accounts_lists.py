"""Paged lists: an account's statuses (visibility, filters), followers and following, blocks, mutes, domain blocks."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from fedserver.db import utcnow
from fedserver.local import follows, notifications
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Follow, Pin
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import Status
from fedserver.outbox.published import PublishedActivity
from tests.cities import City
from tests.unit.api.mastodon.social import Reader, actor_of, block, boost, follow


def _links(response_link: str) -> dict[str, dict[str, list[str]]]:
    links = {}
    for part in response_link.split(", "):
        url, rel = part.split("; ")
        links[rel.split('"')[1]] = parse_qs(urlparse(url.strip("<>")).query)
    return links


async def _statuses(reader: Reader | None, city: City, actor_id: int, **params: object) -> list[str]:
    path = f"/api/v1/accounts/{actor_id}/statuses"
    response = await (reader.get(path, **params) if reader else city.client.get(path, params=params))
    assert response.status_code == 200, response.text
    return [status["content"] for status in response.json()]


async def test_statuses_show_each_viewer_only_their_audience(moers: City) -> None:
    for name in ("alice", "bob", "carla", "dora"):
        await moers.create_account(name)
    await follow(moers, "bob", "alice")
    await moers.post("alice", "oeffentlich")
    await moers.post("alice", "still", visibility="unlisted")
    await moers.post("alice", "fuer Folgende", visibility="private")
    await moers.post("alice", "an @carla", visibility="direct")
    alice = (await actor_of(moers, "alice")).id
    assert await _statuses(None, moers, alice) == ["<p>still</p>", "<p>oeffentlich</p>"]
    seen = {name: await _statuses(await Reader.of(moers, name), moers, alice)
            for name in ("alice", "bob", "carla", "dora")}
    assert len(seen["alice"]) == 4
    assert seen["bob"] == ["<p>fuer Folgende</p>", "<p>still</p>", "<p>oeffentlich</p>"]  # a follower
    assert len(seen["carla"]) == 3 and not any("Folgende" in text for text in seen["carla"])  # mentioned
    assert seen["dora"] == ["<p>still</p>", "<p>oeffentlich</p>"]  # anyone else


async def test_statuses_are_empty_for_someone_the_author_blocks(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    await moers.post("alice", "hallo")
    await block(moers, "alice", "bob")
    alice = (await actor_of(moers, "alice")).id
    assert await _statuses(await Reader.of(moers, "bob"), moers, alice) == []


async def test_a_boost_of_a_post_the_viewer_may_not_see_is_left_out(moers: City) -> None:
    for name in ("alice", "bob", "carla"):
        await moers.create_account(name)
    await follow(moers, "bob", "alice")
    hidden = await moers.post("alice", "nur fuer Folgende", visibility="private")
    async with moers.site.sessions() as session, session.begin():
        bob = await actor_of(moers, "bob")
        # A boost of a followers-only post cannot be made through the API; a row stands in for a peer's.
        session.add(Status(ap_id="https://moers.test/boost/1", author_id=bob.id, reblog_of_id=hidden.id,
                           visibility="public", published_at=utcnow()))
    shown = await moers.post("alice", "fuer alle")
    await boost(moers, "bob", shown)
    carla = await Reader.of(moers, "carla")
    entities = (await carla.get(f"/api/v1/accounts/{bob.id}/statuses")).json()
    assert [entity["reblog"]["content"] for entity in entities] == ["<p>fuer alle</p>"]
    assert (await carla.get(f"/api/v1/accounts/{bob.id}/statuses", exclude_reblogs="true")).json() == []


async def test_statuses_filters_pinned_replies_media_and_tags(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    first = await moers.post("alice", "Start #Moers")
    await moers.post("alice", "weiter im eigenen Faden", in_reply_to=first)
    other = await moers.post("bob", "Bobs Frage")
    await moers.post("alice", "Antwort an Bob", in_reply_to=other)
    pictured = await moers.post("alice", "mit Bild")
    async with moers.site.sessions() as session, session.begin():
        alice = await actor_of(moers, "alice")
        session.add(Pin(actor_id=alice.id, status_id=first.id))
        session.add(MediaAttachment(owner_id=alice.id, status_id=pictured.id, remote_url="https://x.test/a.png"))
    texts = await _statuses(None, moers, alice.id, exclude_replies="true")
    assert "<p>Antwort an Bob</p>" not in texts and "<p>weiter im eigenen Faden</p>" in texts
    assert await _statuses(None, moers, alice.id, only_media="true") == ["<p>mit Bild</p>"]
    assert len(await _statuses(None, moers, alice.id, pinned="true")) == 1
    assert len(await _statuses(None, moers, alice.id, tagged="moers")) == 1
    assert await _statuses(None, moers, alice.id, tagged="Krefeld") == []


async def test_statuses_page_by_id_with_link_headers(moers: City) -> None:
    await moers.create_account("alice")
    posts = [await moers.post("alice", f"Nummer {n}") for n in range(5)]
    alice = (await actor_of(moers, "alice")).id
    first = await moers.client.get(f"/api/v1/accounts/{alice}/statuses", params={"limit": 2})
    assert [s["id"] for s in first.json()] == [str(posts[4].id), str(posts[3].id)]
    links = _links(first.headers["Link"])
    assert links["next"]["max_id"] == [str(posts[3].id)] and links["prev"]["min_id"] == [str(posts[4].id)]
    assert links["next"]["limit"] == ["2"]
    second = await moers.client.get(f"/api/v1/accounts/{alice}/statuses", params=links["next"])
    assert [s["id"] for s in second.json()] == [str(posts[2].id), str(posts[1].id)]
    above = await moers.client.get(f"/api/v1/accounts/{alice}/statuses",
                                   params={"min_id": str(posts[0].id), "limit": 2})
    assert [s["id"] for s in above.json()] == [str(posts[2].id), str(posts[1].id)]
    since = await moers.client.get(f"/api/v1/accounts/{alice}/statuses", params={"since_id": str(posts[2].id)})
    assert [s["id"] for s in since.json()] == [str(posts[4].id), str(posts[3].id)]
    assert (await moers.client.get(f"/api/v1/accounts/{alice}/statuses", params={"max_id": "abc"})).status_code == 400
    assert (await moers.client.get("/api/v1/accounts/4242/statuses")).status_code == 404


async def test_followers_and_following_page_by_follow_id(moers: City) -> None:
    for name in ("alice", "bob", "carla", "dora"):
        await moers.create_account(name)
    for name in ("bob", "carla", "dora"):
        await follow(moers, name, "alice")
    alice = (await actor_of(moers, "alice")).id
    first = await moers.client.get(f"/api/v1/accounts/{alice}/followers", params={"limit": 2})
    assert [a["acct"] for a in first.json()] == ["dora", "carla"]
    async with moers.site.sessions() as session:
        follow_ids = (await session.scalars(select(Follow.id).order_by(Follow.id))).all()
    assert _links(first.headers["Link"])["next"]["max_id"] == [str(follow_ids[1])]
    rest = await moers.client.get(f"/api/v1/accounts/{alice}/followers",
                                  params=_links(first.headers["Link"])["next"])
    assert [a["acct"] for a in rest.json()] == ["bob"]
    bob = (await actor_of(moers, "bob")).id
    assert [a["acct"] for a in (await moers.client.get(f"/api/v1/accounts/{bob}/following")).json()] == ["alice"]
    await block(moers, "alice", "carla")
    carla = await Reader.of(moers, "carla")
    assert (await carla.get(f"/api/v1/accounts/{alice}/followers")).json() == []
    assert (await moers.client.get("/api/v1/accounts/99/followers")).status_code == 404


async def test_blocks_and_mutes_lists_need_their_scopes(moers: City) -> None:
    await moers.create_account("alice")
    reader = await Reader.of(moers, "alice", "read:statuses")
    for path in ("/api/v1/blocks", "/api/v1/mutes", "/api/v1/domain_blocks", "/api/v1/follow_requests"):
        assert (await reader.get(path)).status_code == 403, path
        assert (await moers.client.get(path)).status_code == 401, path


async def test_domain_blocks_add_list_and_remove(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    assert (await alice.post("/api/v1/domain_blocks", domain="Spam.Example")).json() == {}
    assert (await alice.post("/api/v1/domain_blocks", domain="spam.example")).status_code == 200
    await alice.post("/api/v1/domain_blocks", domain="https://other.example/path")
    listed = await alice.get("/api/v1/domain_blocks")
    assert listed.json() == ["other.example", "spam.example"] and "Link" in listed.headers
    assert (await alice.delete("/api/v1/domain_blocks", domain="spam.example")).json() == {}
    assert (await alice.get("/api/v1/domain_blocks")).json() == ["other.example"]
    assert (await alice.post("/api/v1/domain_blocks")).status_code == 400
    for bad in ("not a domain", "moers.test", "-x.example"):
        response = await alice.post("/api/v1/domain_blocks", domain=bad)
        assert response.status_code == 422 and "domain" in response.json()["details"], bad


async def test_a_domain_block_removes_followers_from_there_and_refuses_follows(moers: City) -> None:
    await moers.create_account("alice")
    async with moers.site.sessions() as session, session.begin():
        dora = Actor(ap_id="https://spam.example/users/dora", kind="Person", username="dora", username_key="dora",
                     domain="spam.example", inbox_url="https://spam.example/users/dora/inbox", published_at=utcnow())
        session.add(dora)
        await session.flush()
        alice = await actor_of(moers, "alice")
        session.add(Follow(follower_id=dora.id, target_id=alice.id, state="accepted",
                           ap_id="https://spam.example/follows/1"))
    reader = await Reader.of(moers, "alice")
    await reader.post("/api/v1/domain_blocks", domain="spam.example")
    relationship = (await reader.get("/api/v1/accounts/relationships", **{"id[]": str(dora.id)})).json()[0]
    assert (relationship["followed_by"], relationship["domain_blocking"]) == (False, True)
    assert (await reader.post(f"/api/v1/accounts/{dora.id}/follow")).status_code == 403


async def test_a_blocked_server_can_neither_follow_nor_notify(moers: City) -> None:
    await moers.create_account("alice")
    reader = await Reader.of(moers, "alice")
    await reader.post("/api/v1/domain_blocks", domain="spam.example")
    async with moers.site.sessions() as session, session.begin():
        dora = Actor(ap_id="https://spam.example/users/dora", kind="Person", username="dora", username_key="dora",
                     domain="spam.example", inbox_url="https://spam.example/users/dora/inbox", published_at=utcnow())
        session.add(dora)
        await session.flush()
        alice = (await session.scalars(select(Actor).where(Actor.username == "alice"))).one()
        assert await follows.receive(session, moers.site.urls, dora, alice, "https://spam.example/f/2",
                                     now=utcnow()) is None
        assert await notifications.notify(session, alice, "mention", dora, now=utcnow()) is None
        sent = (await session.scalars(select(PublishedActivity.type))).all()
    assert sent == ["Reject"]
