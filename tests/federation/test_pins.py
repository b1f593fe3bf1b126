"""Two cities: pinning a post sends Add to the author's featured collection (unpinning sends Remove), as
Mastodon does, and the other city shows the pin on the author's profile (GET .../statuses?pinned=true).
A city meeting an actor for the first time reads its featured collection too."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from fedserver.outbox.deliveries import Delivery
from fedserver.outbox.published import PublishedActivity
from tests.api_clients import bearer, token_for
from tests.cities import City
from tests.federation.cities import actor_by_ap_id, federation, follow, local_actor

MOERS, SOLINGEN = "moers.test", "solingen.test"


async def _pinned_uris(city: City, reader: str, author_ap_id: str) -> list[str]:
    """The author's pinned posts as a resident of `city` sees them through the Mastodon API."""
    author = await actor_by_ap_id(city, author_ap_id)
    response = await city.client.get(f"/api/v1/accounts/{author.id}/statuses", params={"pinned": "true"},
                                     headers=bearer(await token_for(city, reader)))
    assert response.status_code == 200, response.text
    return [status["uri"] for status in response.json()]


async def _pin(city: City, username: str, status_id: int, action: str = "pin") -> None:
    response = await city.client.post(f"/api/v1/statuses/{status_id}/{action}",
                                      headers=bearer(await token_for(city, username)))
    assert response.status_code == 200, response.text
    assert response.json()["pinned"] is (action == "pin")


async def _sent(city: City, kind: str) -> tuple[dict[str, object], list[str]]:
    async with city.site.sessions() as session:
        row = (await session.scalars(select(PublishedActivity).where(PublishedActivity.type == kind))).one()
        inboxes = (await session.scalars(select(Delivery.inbox_url).where(Delivery.activity_id == row.id))).all()
    return json.loads(row.body), list(inboxes)


async def test_pin_and_unpin_reach_followers_and_show_on_the_profile_there(tmp_path: Path) -> None:
    async with federation(tmp_path, MOERS, SOLINGEN) as fed:
        moers, solingen = fed[MOERS], fed[SOLINGEN]
        await moers.create_account("alice")
        await solingen.create_account("bob")
        await follow(solingen, "bob", f"alice@{MOERS}")
        await fed.drain()
        post = await moers.post("alice", "Sommerfest im Schlosspark")
        await fed.drain()
        alice = (await local_actor(moers, "alice")).ap_id

        await _pin(moers, "alice", post.id)
        add, inboxes = await _sent(moers, "Add")
        assert {key: add[key] for key in ("type", "actor", "object", "target")} == {
            "type": "Add", "actor": alice, "object": post.ap_id, "target": f"{alice}/collections/featured"}
        assert str(add["id"]).startswith(f"{alice}/activities/")
        assert inboxes == [f"https://{SOLINGEN}/inbox"]
        await fed.drain()
        assert await _pinned_uris(solingen, "bob", alice) == [post.ap_id]

        await _pin(moers, "alice", post.id, "unpin")
        remove, _ = await _sent(moers, "Remove")
        assert (remove["object"], remove["target"]) == (post.ap_id, f"{alice}/collections/featured")
        assert remove["id"] != add["id"]
        await fed.drain()
        assert await _pinned_uris(solingen, "bob", alice) == []


async def test_a_pin_of_a_post_the_follower_never_got_is_fetched(tmp_path: Path) -> None:
    async with federation(tmp_path, MOERS, SOLINGEN) as fed:
        moers, solingen = fed[MOERS], fed[SOLINGEN]
        await moers.create_account("carla")
        await solingen.create_account("bob")
        older = await solingen.post("bob", "Klingenmuseum: neue Ausstellung")  # before anyone followed
        await follow(moers, "carla", f"bob@{SOLINGEN}")
        await fed.drain()
        bob = (await local_actor(solingen, "bob")).ap_id
        assert await _pinned_uris(moers, "carla", bob) == []

        await _pin(solingen, "bob", older.id)
        await fed.drain()
        assert await _pinned_uris(moers, "carla", bob) == [older.ap_id]


async def test_first_sight_of_an_actor_reads_its_featured_collection(tmp_path: Path) -> None:
    async with federation(tmp_path, MOERS, SOLINGEN) as fed:
        moers, solingen = fed[MOERS], fed[SOLINGEN]
        await moers.create_account("alice")
        await solingen.create_account("bob")
        pinned = await moers.post("alice", "Angeheftet: Öffnungszeiten des Bürgerbüros")
        await moers.post("alice", "Nicht angeheftet")
        followers_only = await moers.post("alice", "Nur für Folgende", visibility="private")
        await _pin(moers, "alice", pinned.id)
        await fed.drain()  # nobody follows alice yet: the Add goes nowhere
        alice = (await local_actor(moers, "alice")).ap_id

        await follow(solingen, "bob", f"alice@{MOERS}")  # solingen meets alice here
        assert await _pinned_uris(solingen, "bob", alice) == [pinned.ap_id]
        assert followers_only.ap_id not in await _pinned_uris(solingen, "bob", alice)
