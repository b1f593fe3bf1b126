"""Two cities: a local poll's counts reach its audience as Update{Question} (replies.totalItems per option,
votersCount), at most once per poll every few minutes and not once per vote, as Mastodon's
DistributePollUpdateWorker does; the other city shows the new counts. Both directions."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fedserver import housekeeping
from fedserver.db import utcnow
from fedserver.local import remote_statuses
from fedserver.local.poll_votes import COUNTS_EVERY
from fedserver.outbox.deliveries import Delivery
from fedserver.outbox.published import PublishedActivity
from tests.api_clients import bearer, token_for
from tests.cities import City
from tests.federation.cities import federation, follow

MOERS, SOLINGEN = "moers.test", "solingen.test"


async def _poll_as_seen(city: City, reader: str, uri: str) -> dict[str, Any]:
    async with city.site.sessions() as session:
        status = await remote_statuses.find(session, uri)
    assert status is not None
    response = await city.client.get(f"/api/v1/statuses/{status.id}", headers=bearer(await token_for(city, reader)))
    poll: dict[str, Any] = response.json()["poll"]
    return poll


async def _vote(city: City, voter: str, uri: str, choices: list[int]) -> None:
    poll = await _poll_as_seen(city, voter, uri)
    response = await city.client.post(f"/api/v1/polls/{poll['id']}/votes", json={"choices": choices},
                                      headers=bearer(await token_for(city, voter)))
    assert response.status_code == 200, response.text


async def _updates(city: City) -> list[tuple[dict[str, Any], list[str]]]:
    async with city.site.sessions() as session:
        rows = (await session.scalars(select(PublishedActivity).where(PublishedActivity.type == "Update")
                                      .order_by(PublishedActivity.id))).all()
        return [(json.loads(row.body), list((await session.scalars(
            select(Delivery.inbox_url).where(Delivery.activity_id == row.id))).all())) for row in rows]


@pytest.mark.parametrize(("home", "away"), [(MOERS, SOLINGEN), (SOLINGEN, MOERS)])
async def test_counts_of_a_local_poll_reach_the_other_city_debounced(tmp_path: Path, home: str, away: str) -> None:
    async with federation(tmp_path, MOERS, SOLINGEN) as fed:
        owner_city, voter_city = fed[home], fed[away]
        await owner_city.create_account("alice")
        await owner_city.create_account("carla")
        await voter_city.create_account("bob")
        await follow(voter_city, "bob", f"alice@{home}")
        await fed.drain()
        posted = await owner_city.client.post("/api/v1/statuses", headers=bearer(await token_for(owner_city, "alice")),
                                              json={"status": "Wohin mit dem Brunnen?",
                                                    "poll": {"options": ["Markt", "Park"], "expires_in": 3600}})
        assert posted.status_code == 200, posted.text
        uri = posted.json()["uri"]
        await fed.drain()
        now = utcnow()
        assert await housekeeping.publish_poll_counts(owner_city.site.sessions, owner_city.site.urls, now=now) == 0

        await _vote(voter_city, "bob", uri, [1])  # a remote vote, as Create{Note}
        await fed.drain()
        assert await housekeeping.publish_poll_counts(owner_city.site.sessions, owner_city.site.urls, now=now) == 1
        [(update, inboxes)] = await _updates(owner_city)
        question = update["object"]
        assert (update["type"], question["type"], question["id"]) == ("Update", "Question", uri)
        assert [(o["name"], o["replies"]["totalItems"]) for o in question["oneOf"]] == [("Markt", 0), ("Park", 1)]
        assert question["votersCount"] == 1 and "closed" not in question
        assert inboxes == [f"https://{away}/inbox"]
        await fed.drain()
        seen = await _poll_as_seen(voter_city, "bob", uri)
        assert [o["votes_count"] for o in seen["options"]] == [0, 1] and seen["voters_count"] == 1

        # A second vote soon after: no second Update until COUNTS_EVERY has passed since the first.
        await _vote(owner_city, "carla", uri, [0])
        assert await housekeeping.publish_poll_counts(owner_city.site.sessions, owner_city.site.urls,
                                                      now=now + timedelta(minutes=1)) == 0
        later = now + COUNTS_EVERY + timedelta(seconds=30)
        assert await housekeeping.publish_poll_counts(owner_city.site.sessions, owner_city.site.urls, now=later) == 1
        assert await housekeeping.publish_poll_counts(owner_city.site.sessions, owner_city.site.urls,
                                                      now=later + COUNTS_EVERY * 2) == 0  # no new votes
        await fed.drain()
        seen = await _poll_as_seen(voter_city, "bob", uri)
        assert [o["votes_count"] for o in seen["options"]] == [1, 1] and seen["voters_count"] == 2
        assert seen["voted"] and seen["own_votes"] == [1]

        # The end: final counts with `closed`, and the open-poll job leaves an ended poll alone.
        ended = now + timedelta(hours=2)
        await housekeeping.finish_polls(owner_city.site.sessions, owner_city.site.urls, since=now, now=ended)
        assert await housekeeping.publish_poll_counts(owner_city.site.sessions, owner_city.site.urls, now=ended) == 0
        final, _ = (await _updates(owner_city))[-1]
        assert "closed" in final["object"] and final["object"]["votersCount"] == 2
        await fed.drain()
        assert (await _poll_as_seen(voter_city, "bob", uri))["voters_count"] == 2
