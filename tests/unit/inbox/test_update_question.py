"""Update{Question} from the poll's owner refreshes the counts here (no edit); from anyone else it changes nothing."""
from __future__ import annotations

import copy
from pathlib import Path

from sqlalchemy import select

from fedserver.inbox.queue import DONE, SKIPPED, InboxItem
from fedserver.local.models.polls import Poll, PollOption
from fedserver.local.models.statuses import Status
from tests.cities import City
from tests.federation.cities import federation
from tests.federation.peer import start_peer


async def _counts(city: City, ap_id: str) -> tuple[list[int], int]:
    async with city.site.sessions() as session:
        poll = (await session.scalars(select(Poll).join(Status, Status.id == Poll.status_id)
                                      .where(Status.ap_id == ap_id))).one()
        votes = (await session.scalars(select(PollOption.votes_count).where(PollOption.poll_id == poll.id)
                                       .order_by(PollOption.position))).all()
        return list(votes), poll.voters_count


async def _row(city: City, activity_id: str) -> InboxItem:
    async with city.site.sessions() as session:
        return (await session.scalars(select(InboxItem).where(InboxItem.activity_ap_id == activity_id))).one()


async def test_update_of_a_question_by_its_owner_refreshes_the_counts_and_by_another_is_skipped(
        tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test") as fed, start_peer(fed, "mastodon.test") as peer:
        city = fed["moers.test"]
        await city.create_account("alice")
        peer.add_actor("felix")
        zoe = peer.add_actor("zoe")
        create = peer.adopt("mastodon/create_question.json")
        assert (await peer.deliver(city, create)).status_code == 202
        await fed.drain()
        question_id = create["object"]["id"]
        before = await _counts(city, question_id)

        update = peer.adopt("mastodon/update_question.json")
        assert (await peer.deliver(city, update)).status_code == 202
        await fed.drain()
        assert (await _row(city, update["id"])).state == DONE
        assert await _counts(city, question_id) == ([4, 2, 1], 7) != before

        forged = copy.deepcopy(update)
        forged.update(id=f"{zoe.ap_id}#updates/1", actor=zoe.ap_id)
        forged["object"]["oneOf"][2]["replies"]["totalItems"] = 99
        assert (await peer.deliver(city, forged, zoe)).status_code == 202
        await fed.drain()
        row = await _row(city, forged["id"])
        assert row.state == SKIPPED and "not to the actor" in row.note
        assert await _counts(city, question_id) == ([4, 2, 1], 7)
