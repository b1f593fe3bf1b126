"""Real-world group payloads (tests/fixtures/lemmy/, tests/fixtures/mobilizon/): a Lemmy community relaying a
member's post, a moderator's removal, and a relayed vote, as a Lemmy peer sends them to our city; joining a
Mobilizon group, the events it relays and those its organizers send."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from fedserver.inbox.queue import DONE, SKIPPED
from fedserver.local.models.actors import Actor
from fedserver.local.models.groups import GroupRemoval
from fedserver.local.models.interactions import ACCEPTED, Follow
from fedserver.local.models.statuses import Status
from tests.federation.cities import follow
from tests.federation.peer import PeerActor
from tests.federation.test_real_world_payloads import World, _deliver, _inbox_row, _status, _world


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
        async with world.city.site.sessions() as session:  # recorded, though the copy is gone
            [recorded] = (await session.scalars(select(GroupRemoval))).all()
            moderator = await session.get(Actor, recorded.moderator_id)
        assert (recorded.group_id, recorded.post_ap_id, recorded.reason) == (group.id, page_id, "off topic")
        assert moderator is not None and moderator.ap_id == world.peer.origin + "/u/mod" and recorded.excerpt


async def _join_mobilizon_group(world: World) -> PeerActor:
    """Alice follows the Mobilizon group (Follow → Accept, as Mobilizon answers an open group's Follow)."""
    world.peer.add_actor("alicia")
    group = world.peer.add_actor("repelen_radelt", fixture="mobilizon/group.json")
    await follow(world.city, "alice", world.peer.handle(group))
    await world.fed.drain()
    [sent] = [r for r in world.peer.received if r.activity.get("type") == "Follow"]
    assert sent.verified and sent.path == "/@repelen_radelt/inbox"
    accept = {"@context": group.document["@context"], "id": f"{group.ap_id}/accept/follow/8b1f0c2e",
              "type": "Accept", "actor": group.ap_id, "object": sent.activity, "to": [world.alice]}
    await _deliver(world, accept)
    async with world.city.site.sessions() as session:
        assert (await session.scalars(select(Follow.state))).one() == ACCEPTED
    return group


async def test_a_resident_joins_a_mobilizon_group_and_its_relayed_event_is_the_groups(tmp_path: Path) -> None:
    async with _world(tmp_path, "mobilizon", "mobilizon.test") as world:
        group = await _join_mobilizon_group(world)
        announce = world.peer.adopt("mobilizon/announce_create_event.json")
        event_id = announce["object"]["object"]["id"]
        world.peer.serve(dict(announce["object"]["object"], **{"@context": announce["@context"]}))
        await _deliver(world, announce)
        row = await _inbox_row(world.city, announce["id"])
        assert row.state == DONE, row.note
        event = await _status(world.city, event_id)
        assert event is not None and event.object_type == "Event" and event.title == "Feierabendrunde"
        async with world.city.site.sessions() as session:
            stored_group = (await session.scalars(select(Actor).where(Actor.ap_id == group.ap_id))).one()
            boosts = (await session.scalars(select(Status).where(Status.reblog_of_id == event.id))).all()
        assert stored_group.kind == "Group" and stored_group.followers_url == group.ap_id + "/followers"
        assert event.audience_id == stored_group.id and [boost.author_id for boost in boosts] == [stored_group.id]


async def test_mobilizons_bare_announce_of_a_group_event_is_kept_as_the_groups_boost(tmp_path: Path) -> None:
    """Mobilizon's own relay (maybe_relay_if_group_activity) Announces the Event itself, not its Create."""
    async with _world(tmp_path, "mobilizon", "mobilizon.test") as world:
        group = await _join_mobilizon_group(world)
        wrapped = world.peer.adopt("mobilizon/announce_create_event.json")
        event = dict(wrapped["object"]["object"], **{"@context": wrapped["@context"]})
        world.peer.serve(event)
        bare = dict(wrapped, id=wrapped["id"] + "-bare", object=event["id"])
        await _deliver(world, bare)
        assert (await _inbox_row(world.city, bare["id"])).state == DONE
        stored = await _status(world.city, event["id"])
        assert stored is not None and stored.object_type == "Event"
        async with world.city.site.sessions() as session:
            [boost] = (await session.scalars(select(Status).where(Status.reblog_of_id == stored.id))).all()
            booster = await session.get(Actor, boost.author_id)
        assert booster is not None and booster.ap_id == group.ap_id  # the group page's feed lists it
        assert stored.audience_id == booster.id  # the group's post, as a relayed Create makes it


async def test_an_organizers_create_of_a_group_event_is_stored_as_the_groups_post(tmp_path: Path) -> None:
    """Mobilizon: the organizer sends the Create, the Event is attributedTo the group, its `actor` the organizer."""
    async with _world(tmp_path, "mobilizon", "mobilizon.test") as world:
        group = await _join_mobilizon_group(world)
        create = world.peer.adopt("mobilizon/announce_create_event.json")["object"]
        create["@context"] = world.peer.adopt("mobilizon/announce_create_event.json")["@context"]
        assert create["actor"] == world.peer.origin + "/@alicia" == create["object"]["actor"]
        assert create["object"]["attributedTo"] == group.ap_id
        await _deliver(world, create)
        row = await _inbox_row(world.city, create["id"])
        assert row.state == DONE, row.note
        event = await _status(world.city, create["object"]["id"])
        async with world.city.site.sessions() as session:
            stored_group = (await session.scalars(select(Actor).where(Actor.ap_id == group.ap_id))).one()
        assert event is not None and event.object_type == "Event"
        assert event.author_id == stored_group.id and event.audience_id == stored_group.id


async def test_a_create_attributed_to_a_group_is_refused_unless_origin_and_organizer_match(tmp_path: Path) -> None:
    from fedserver.db import utcnow
    from fedserver.local import accounts, groups

    async with _world(tmp_path, "mobilizon", "mobilizon.test") as world:
        await _join_mobilizon_group(world)
        world.peer.add_actor("bertram")
        async with world.city.site.sessions() as session, session.begin():
            founder = (await accounts.find_by_username(session, "alice")).actor
            ours = await groups.create(session, world.city.site.urls, founder, "treff", groups.SettingsChange(),
                                       now=utcnow())
        template = world.peer.adopt("mobilizon/announce_create_event.json")
        cases = {
            "our-group": {"attributedTo": ours.ap_id},  # a group of another server than the sender's
            "elsewhere": {"attributedTo": "https://elsewhere.test/@gruppe"},
            "not-organizer": {"actor": world.peer.origin + "/@bertram"},  # alicia is not the organizer it names
            "a-person": {"attributedTo": world.peer.origin + "/@bertram"},  # not a group
        }
        for name, changes in cases.items():
            event = dict(template["object"]["object"], id=f"{world.peer.origin}/events/{name}", **changes)
            create = dict(template["object"], id=f"{world.peer.origin}/events/{name}/activity", object=event)
            create["@context"] = template["@context"]
            await _deliver(world, create)
            row = await _inbox_row(world.city, create["id"])
            assert row.state == SKIPPED and "not to the actor" in (row.note or ""), (name, row.note)
            assert await _status(world.city, event["id"]) is None, name
