"""Add and Remove to a remote actor's featured collection pin and unpin its posts here (Mastodon's
ActivityPub::Activity::Add/Remove), delivered by a Mastodon-shaped peer with real signatures."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fedserver.inbox.queue import DONE, SKIPPED, InboxItem
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import Pin
from fedserver.local.models.statuses import Status
from tests.cities import City
from tests.federation.cities import Federation, federation
from tests.federation.peer import Peer, PeerActor, start_peer

HOST = "mastodon.test"


@dataclass
class World:
    fed: Federation
    city: City
    peer: Peer
    felix: PeerActor
    note: dict[str, Any]  # felix's post, served by the peer, not yet known to the city


@asynccontextmanager
async def _world(tmp_path: Path) -> AsyncIterator[World]:
    async with federation(tmp_path, "moers.test") as fed, start_peer(fed, HOST) as peer:
        city = fed["moers.test"]
        await city.create_account("alice")
        felix = peer.add_actor("felix")
        note = peer.serve(peer.adopt("mastodon/note_public.json"))
        try:
            yield World(fed, city, peer, felix, note)
        except BaseException:
            await city.site.engine.dispose()  # see tests/federation/test_real_world_payloads.py
            raise


def _activity(world: World, fixture: str, number: int, **changes: Any) -> dict[str, Any]:
    # Mastodon sends no id (tests/fixtures/SOURCES.md; the inbox mints one, tested below); ids here let the
    # tests find each activity's inbox row.
    return {**world.peer.adopt(fixture), "id": f"{world.felix.ap_id}#pins/{number}", **changes}


async def _deliver(world: World, activity: dict[str, Any]) -> InboxItem:
    response = await world.peer.deliver(world.city, activity)
    assert response.status_code == 202, response.text
    await world.fed.drain()
    async with world.city.site.sessions() as session:
        return (await session.scalars(select(InboxItem).where(InboxItem.activity_ap_id == activity["id"]))).one()


async def _pinned(city: City) -> list[tuple[str, str]]:
    async with city.site.sessions() as session:
        rows = await session.execute(select(Actor.ap_id, Status.ap_id).join(Pin, Pin.actor_id == Actor.id)
                                     .join(Status, Status.id == Pin.status_id).order_by(Pin.id))
        return [(row[0], row[1]) for row in rows.all()]


async def test_add_pins_a_post_fetched_from_its_origin_and_remove_unpins_it(tmp_path: Path) -> None:
    async with _world(tmp_path) as world:
        row = await _deliver(world, _activity(world, "mastodon/add_featured.json", 1))
        assert (row.state, row.note) == (DONE, "")
        assert await _pinned(world.city) == [(world.felix.ap_id, world.note["id"])]
        assert (f"/users/felix/statuses/{world.note['id'].rsplit('/', 1)[1]}", True) in world.peer.fetches

        again = await _deliver(world, _activity(world, "mastodon/add_featured.json", 2))
        assert again.state == DONE and len(await _pinned(world.city)) == 1  # pinned once

        removed = await _deliver(world, _activity(world, "mastodon/remove_featured.json", 3))
        assert (removed.state, removed.note) == (DONE, "")
        assert await _pinned(world.city) == []
        twice = await _deliver(world, _activity(world, "mastodon/remove_featured.json", 4))
        assert twice.state == SKIPPED and "not pinned" in twice.note


@pytest.mark.parametrize("target", ["/users/felix/collections/tags", "/users/zoe/collections/featured"],
                         ids=["featured-tags", "someone-elses-featured"])
async def test_add_to_another_collection_is_skipped_without_fetching(tmp_path: Path, target: str) -> None:
    async with _world(tmp_path) as world:
        row = await _deliver(world, _activity(world, "mastodon/add_featured.json", 1, target=f"https://{HOST}{target}"))
        assert row.state == SKIPPED and "featured" in row.note
        assert await _pinned(world.city) == []
        assert not [path for path, _signed in world.peer.fetches if "/statuses/" in path]


async def test_add_of_a_post_on_another_server_is_refused(tmp_path: Path) -> None:
    async with _world(tmp_path) as world:
        row = await _deliver(world, _activity(world, "mastodon/add_featured.json", 1,
                                              object="https://moers.test/users/alice/statuses/1"))
        assert row.state == SKIPPED and row.note.startswith("OriginMismatch")
        assert await _pinned(world.city) == []


async def test_add_of_someone_elses_post_is_skipped(tmp_path: Path) -> None:
    async with _world(tmp_path) as world:
        zoe = world.peer.add_actor("zoe")
        theirs = world.peer.serve({**world.note, "id": f"{zoe.ap_id}/statuses/1", "attributedTo": zoe.ap_id})
        row = await _deliver(world, _activity(world, "mastodon/add_featured.json", 1, object=theirs["id"]))
        assert row.state == SKIPPED and "attributed to" in row.note
        assert await _pinned(world.city) == []


async def test_remove_of_a_post_that_was_never_pinned_is_skipped(tmp_path: Path) -> None:
    async with _world(tmp_path) as world:
        row = await _deliver(world, _activity(world, "mastodon/remove_featured.json", 1))
        assert row.state == SKIPPED and "not pinned" in row.note


async def test_mastodons_add_without_id_is_accepted(tmp_path: Path) -> None:
    async with _world(tmp_path) as world:
        response = await world.peer.deliver(world.city, world.peer.adopt("mastodon/add_featured.json"))
        assert response.status_code == 202, response.text
        await world.fed.drain()
        assert await _pinned(world.city) == [(world.felix.ap_id, world.note["id"])]


async def test_pin_unpin_pin_without_ids_are_three_activities(tmp_path: Path) -> None:
    """Mastodon's bodies repeat exactly; the signed Date tells them apart, so none is taken for a repeat."""
    async with _world(tmp_path) as world:
        start = datetime.now(timezone.utc)
        for seconds, fixture in enumerate(("mastodon/add_featured.json", "mastodon/remove_featured.json",
                                           "mastodon/add_featured.json")):
            response = await world.peer.deliver(world.city, world.peer.adopt(fixture),
                                                now=start + timedelta(seconds=seconds))
            assert response.status_code == 202, response.text
            await world.fed.drain()
        assert await _pinned(world.city) == [(world.felix.ap_id, world.note["id"])]
        async with world.city.site.sessions() as session:
            ids = (await session.scalars(select(InboxItem.activity_ap_id))).all()
        assert len(set(ids)) == 3 and all(id_.startswith(world.felix.ap_id + "#") for id_ in ids)


async def test_a_create_without_id_is_still_refused(tmp_path: Path) -> None:
    async with _world(tmp_path) as world:
        create = {"type": "Create", "actor": world.felix.ap_id, "object": world.note}
        response = await world.peer.deliver(world.city, create)
        assert response.status_code == 400 and "no id" in response.text
