"""Two cities: a resident of Solingen votes on a poll from Moers through the Mastodon API; the vote travels
as Mastodon sends it (Create{Note} named after the option, to the poll's author only) and is counted there."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from fedserver.local import remote_statuses
from fedserver.local.models.polls import PollVote
from fedserver.local.models.statuses import Status
from fedserver.outbox.deliveries import Delivery
from fedserver.outbox.published import PublishedActivity
from tests.api_clients import bearer, token_for
from tests.federation.cities import federation, follow


async def test_a_vote_on_a_remote_poll_reaches_its_author_and_counts_once(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = fed["moers.test"], fed["solingen.test"]
        await moers.create_account("alice")
        await moers.create_account("carla")
        await solingen.create_account("bob")
        await follow(solingen, "bob", "alice@moers.test")
        await fed.drain()
        alice = bearer(await token_for(moers, "alice"))
        posted = await moers.client.post("/api/v1/statuses", headers=alice, json={
            "status": "Wo soll der Brunnen stehen?", "poll": {"options": ["Markt", "Park"], "expires_in": 3600}})
        assert posted.status_code == 200, posted.text
        await fed.drain()

        async with solingen.site.sessions() as session:
            copy = await remote_statuses.find(session, posted.json()["uri"])
        assert copy is not None and copy.object_type == "Question"
        bob = bearer(await token_for(solingen, "bob"))
        remote_poll = (await solingen.client.get(f"/api/v1/statuses/{copy.id}", headers=bob)).json()["poll"]
        assert [o["title"] for o in remote_poll["options"]] == ["Markt", "Park"]
        voted = await solingen.client.post(f"/api/v1/polls/{remote_poll['id']}/votes", headers=bob,
                                           json={"choices": [1]})
        assert voted.status_code == 200, voted.text
        assert voted.json()["own_votes"] == [1] and voted.json()["votes_count"] == 1
        async with solingen.site.sessions() as session:
            sent = (await session.scalars(select(PublishedActivity).where(PublishedActivity.type == "Create",
                                                                          PublishedActivity.is_listed.is_(False))))
            vote = json.loads(sent.one().body)
            inboxes = (await session.scalars(select(Delivery.inbox_url))).all()
        assert vote["object"]["name"] == "Park" and vote["object"]["inReplyTo"] == posted.json()["uri"]
        assert vote["to"] == ["https://moers.test/users/alice"] and vote["object"]["type"] == "Note"
        assert "https://moers.test/users/alice/inbox" in inboxes
        await fed.drain()

        poll = (await moers.client.get(f"/api/v1/polls/{posted.json()['poll']['id']}", headers=alice)).json()
        assert [o["votes_count"] for o in poll["options"]] == [0, 1] and poll["voters_count"] == 1
        async with moers.site.sessions() as session:
            assert len((await session.scalars(select(PollVote))).all()) == 1
            # the vote is no post: it appears in no one's feed
            assert await session.scalar(select(Status.id).where(Status.in_reply_to_ap_id == posted.json()["uri"])) \
                is None
