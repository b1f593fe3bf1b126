"""Real-world group payloads (tests/fixtures/lemmy/): a Lemmy community relaying a member's post, a
moderator's removal, and a relayed vote, as a Lemmy peer sends them to our city."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from fedserver.inbox.queue import DONE, SKIPPED
from fedserver.local.models.actors import Actor
from fedserver.local.models.statuses import Status
from tests.federation.test_real_world_payloads import _deliver, _inbox_row, _status, _world


async def test_lemmy_community_post_joins_the_community_and_a_mod_removal_takes_it_out(tmp_path: Path) -> None:
    async with _world(tmp_path, "lemmy", "lemmy.test") as world:
        world.peer.add_actor("lemmy_alpha")
        world.peer.add_actor("mod")
        community = world.peer.add_actor("main", fixture="lemmy/group.json", path="/c/{name}")
        create = world.peer.adopt("lemmy/announce_create_page.json")
        page_id = create["object"]["object"]["id"]
        world.peer.serve(dict(create["object"]["object"], **{"@context": create["@context"]}))
        await _deliver(world, create)
        page = await _status(world.city, page_id)
        assert page is not None
        async with world.city.site.sessions() as session:
            group = (await session.scalars(select(Actor).where(Actor.ap_id == community.ap_id))).one()
            boosts = (await session.scalars(select(Status).where(Status.reblog_of_id == page.id))).all()
        assert page.audience_id == group.id and [boost.author_id for boost in boosts] == [group.id]

        vote = {"id": world.peer.origin + "/activities/like/1", "type": "Like",
                "actor": world.peer.origin + "/u/lemmy_alpha", "object": page_id, "audience": community.ap_id}
        relayed_vote = {"@context": create["@context"], "id": world.peer.origin + "/activities/announce/like/1",
                        "type": "Announce", "actor": community.ap_id, "object": vote, "to": create["to"]}
        await _deliver(world, relayed_vote)
        assert (await _inbox_row(world.city, relayed_vote["id"])).state in (DONE, SKIPPED)  # understood, no crash

        removal = {"id": world.peer.origin + "/activities/delete/mod/1", "type": "Delete",
                   "actor": world.peer.origin + "/u/mod", "object": page_id, "audience": community.ap_id,
                   "summary": "off topic", "to": create["to"]}
        relayed_removal = {"@context": create["@context"], "id": world.peer.origin + "/activities/announce/delete/9",
                           "type": "Announce", "actor": community.ap_id, "object": removal, "to": create["to"]}
        await _deliver(world, relayed_removal)  # the page still exists at Lemmy: removed from the community
        assert await _status(world.city, page_id) is None
