"""Groups across cities (FEP-1b12): a group on Moers, members on Moers and Solingen, a follower on Krefeld.

Posts addressed to the group (by mention, as from a Mastodon app) are Announced by it to every member's
server; non-members and banned members are not relayed; a moderator's removal reaches everyone; a private
group's posts never reach non-members.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from fedserver.db import utcnow
from fedserver.local import group_membership, group_moderation, groups, visibility
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import ACCEPTED, Follow
from fedserver.local.models.statuses import Status
from fedserver.outbox.published import PublishedActivity
from tests.cities import City
from tests.federation.cities import Federation, federation, follow, local_actor, remote_actor

MOERS, SOLINGEN, KREFELD = "moers.test", "solingen.test", "krefeld.test"
GROUP = "treff@moers.test"


async def _found(city: City, founder: str, **settings: object) -> Actor:
    async with city.site.sessions() as session, session.begin():
        actor = (await local_actor_in(session, founder))
        change = groups.SettingsChange(display_name="Nachbarschaftstreff", description="Für alle in Repelen",
                                       **settings)  # type: ignore[arg-type]
        return await groups.create(session, city.site.urls, actor, "treff", change, now=utcnow())


async def local_actor_in(session: object, username: str) -> Actor:
    from fedserver.local import accounts

    return (await accounts.find_by_username(session, username)).actor  # type: ignore[arg-type]


async def _copy(city: City, text: str) -> Status | None:
    async with city.site.sessions() as session:
        return (await session.scalars(select(Status).where(Status.content_html.contains(text),
                                                           Status.reblog_of_id.is_(None)))).first()


async def _group_boosts(city: City, status: Status) -> list[Status]:
    async with city.site.sessions() as session:
        group_ids = select(Actor.id).where(Actor.kind == "Group")
        return list((await session.scalars(select(Status).where(Status.reblog_of_id == status.id,
                                                                Status.author_id.in_(group_ids)))).all())


async def _three_cities_with_members(fed: Federation, **settings: object) -> Actor:
    moers, solingen, krefeld = fed[MOERS], fed[SOLINGEN], fed[KREFELD]
    for city, name in ((moers, "alice"), (moers, "dora"), (solingen, "bob"), (krefeld, "carla"), (krefeld, "erin")):
        await city.create_account(name)
    group = await _found(moers, "alice", **settings)
    await moers.post("dora", "warm-up")  # nothing to do with the group
    async with moers.site.sessions() as session, session.begin():
        from fedserver.local import follows

        await follows.request(session, moers.site.urls, await local_actor_in(session, "dora"),
                              await session.get(Actor, group.id), now=utcnow())  # type: ignore[arg-type]
    await follow(solingen, "bob", GROUP)
    await follow(krefeld, "carla", GROUP)
    await remote_actor(krefeld, GROUP)
    await fed.drain()
    return group


async def test_member_post_from_another_city_reaches_members_and_followers(tmp_path: Path) -> None:
    async with federation(tmp_path, MOERS, SOLINGEN, KREFELD) as fed:
        group = await _three_cities_with_members(fed)
        await fed[SOLINGEN].post("bob", "@treff@moers.test Flohmarkt am Samstag!")
        await fed.drain()
        at_moers, at_krefeld = await _copy(fed[MOERS], "Flohmarkt"), await _copy(fed[KREFELD], "Flohmarkt")
        assert at_moers is not None and at_moers.audience_id == group.id
        assert [boost.ap_id.startswith("https://moers.test/users/treff/") for boost in
                await _group_boosts(fed[MOERS], at_moers)] == [True]
        assert at_krefeld is not None and at_krefeld.audience_id is not None
        assert len(await _group_boosts(fed[KREFELD], at_krefeld)) == 1  # carla's home timeline shows it
        async with fed[MOERS].site.sessions() as session:
            [announce] = (await session.scalars(select(PublishedActivity).where(
                PublishedActivity.actor_ap_id == group.ap_id, PublishedActivity.type == "Announce"))).all()
        document = announce.document()
        assert document["audience"] == group.ap_id and document["object"]["type"] == "Create"
        assert document["object"]["object"]["attributedTo"] == "https://solingen.test/users/bob"
        assert document["cc"] == [group.followers_url] and announce.is_listed
        solingen_boosts = await _group_boosts(fed[SOLINGEN], await _copy(fed[SOLINGEN], "Flohmarkt"))  # type: ignore[arg-type]
        assert len(solingen_boosts) == 1  # the author's city learns its post is in the group


async def test_reply_in_the_group_is_relayed_like_a_post(tmp_path: Path) -> None:
    async with federation(tmp_path, MOERS, SOLINGEN, KREFELD) as fed:
        await _three_cities_with_members(fed)
        post = await fed[MOERS].post("dora", "@treff Wer hat eine Leiter?")
        await fed.drain()
        async with fed[SOLINGEN].site.sessions() as session:
            parent = (await session.scalars(select(Status).where(Status.ap_id == post.ap_id))).one()
        async with fed[SOLINGEN].site.sessions() as session, session.begin():
            from fedserver.local import statuses

            await statuses.create(session, fed[SOLINGEN].site.urls, await local_actor_in(session, "bob"),
                                  "@dora@moers.test Ich!", in_reply_to=parent, now=utcnow())
        await fed.drain()
        reply = await _copy(fed[KREFELD], "Ich!")
        assert reply is not None and reply.audience_id is not None  # no mention of the group: its parent's


async def test_non_member_post_is_not_announced(tmp_path: Path) -> None:
    async with federation(tmp_path, MOERS, SOLINGEN, KREFELD) as fed:
        await _three_cities_with_members(fed)
        await remote_actor(fed[KREFELD], GROUP)
        await fed[KREFELD].post("erin", "@treff@moers.test Kauft meine Sachen")
        await fed.drain()
        at_moers = await _copy(fed[MOERS], "Kauft meine Sachen")
        assert at_moers is not None and at_moers.audience_id is None  # delivered by the mention, not relayed
        assert await _group_boosts(fed[MOERS], at_moers) == []
        assert await _copy(fed[SOLINGEN], "Kauft meine Sachen") is None


async def test_ban_ends_membership_and_stops_further_posts(tmp_path: Path) -> None:
    async with federation(tmp_path, MOERS, SOLINGEN, KREFELD) as fed:
        group = await _three_cities_with_members(fed)
        moers = fed[MOERS]
        async with moers.site.sessions() as session, session.begin():
            bob = await session.scalar(select(Actor).where(Actor.username == "bob"))
            await group_membership.ban(session, moers.site.urls, await session.get(Actor, group.id),  # type: ignore[arg-type]
                                       await local_actor_in(session, "alice"), bob, "Werbung", now=utcnow())  # type: ignore[arg-type]
        await fed.drain()
        async with fed[SOLINGEN].site.sessions() as session:
            assert (await session.scalars(select(Follow))).all() == []  # the Reject reached Solingen
        await fed[SOLINGEN].post("bob", "@treff@moers.test Noch mehr Werbung")
        await fed.drain()
        at_moers = await _copy(moers, "Noch mehr Werbung")
        assert at_moers is not None and await _group_boosts(moers, at_moers) == []
        assert await _copy(fed[KREFELD], "Noch mehr Werbung") is None
        await follow(fed[SOLINGEN], "bob", GROUP)  # a banned member cannot rejoin
        await fed.drain()
        async with fed[SOLINGEN].site.sessions() as session:
            assert (await session.scalars(select(Follow))).all() == []


async def test_moderator_removal_reaches_every_city(tmp_path: Path) -> None:
    async with federation(tmp_path, MOERS, SOLINGEN, KREFELD) as fed:
        group = await _three_cities_with_members(fed)
        await fed[SOLINGEN].post("bob", "@treff@moers.test Unfreundlicher Beitrag")
        await fed.drain()
        moers = fed[MOERS]
        async with moers.site.sessions() as session, session.begin():
            status = await session.scalar(select(Status).where(Status.content_html.contains("Unfreundlich"),
                                                               Status.reblog_of_id.is_(None)))
            assert status is not None
            await group_moderation.remove_post(session, moers.site.urls, await session.get(Actor, group.id),  # type: ignore[arg-type]
                                               await local_actor_in(session, "alice"), status, "Ton", now=utcnow())
        await fed.drain()
        assert await _copy(moers, "Unfreundlich") is None
        assert await _copy(fed[KREFELD], "Unfreundlich") is None
        at_solingen = await _copy(fed[SOLINGEN], "Unfreundlich")
        assert at_solingen is not None and at_solingen.audience_id is None  # bob's own post, out of the group
        assert await _group_boosts(fed[SOLINGEN], at_solingen) == []


async def test_author_delete_is_relayed_by_the_group(tmp_path: Path) -> None:
    async with federation(tmp_path, MOERS, SOLINGEN, KREFELD) as fed:
        await _three_cities_with_members(fed)
        status = await fed[SOLINGEN].post("bob", "@treff@moers.test Bald gelöscht")
        await fed.drain()
        assert await _copy(fed[KREFELD], "Bald gelöscht") is not None
        async with fed[SOLINGEN].site.sessions() as session, session.begin():
            from fedserver.local import statuses

            bob = await local_actor_in(session, "bob")
            await statuses.delete(session, fed[SOLINGEN].site.urls, await session.get(Status, status.id), bob,  # type: ignore[arg-type]
                                  now=utcnow())
        await fed.drain()
        assert await _copy(fed[MOERS], "Bald gelöscht") is None
        assert await _copy(fed[KREFELD], "Bald gelöscht") is None  # Krefeld only knew it through the group


async def test_private_group_posts_reach_members_only(tmp_path: Path) -> None:
    async with federation(tmp_path, MOERS, SOLINGEN, KREFELD) as fed:
        group = await _three_cities_with_members(fed, is_private=True)
        moers = fed[MOERS]
        await moers.create_account("frank")
        await follow(fed[KREFELD], "erin", "dora@moers.test")  # erin follows dora, but is no member
        await fed.drain()
        await moers.post("dora", "@treff Geheimes Treffen", visibility="direct")
        await fed.drain()
        assert await _copy(fed[SOLINGEN], "Geheimes Treffen") is not None  # bob, a member
        at_krefeld = await _copy(fed[KREFELD], "Geheimes Treffen")
        assert at_krefeld is not None  # carla is a member on Krefeld
        async with fed[KREFELD].site.sessions() as session:
            erin, carla = (await local_actor_in(session, "erin")), (await local_actor_in(session, "carla"))
            assert await visibility.can_see(session, carla, at_krefeld)
            assert not await visibility.can_see(session, erin, at_krefeld)
            assert not await visibility.can_see(session, None, at_krefeld)
        async with moers.site.sessions() as session:
            status = await _copy(moers, "Geheimes Treffen")
            assert status is not None
            assert not await visibility.can_see(session, await local_actor_in(session, "frank"), status)
            assert await visibility.can_see(session, await local_actor_in(session, "alice"), status)
            announces = (await session.scalars(select(PublishedActivity).where(
                PublishedActivity.actor_ap_id == group.ap_id, PublishedActivity.type == "Announce"))).all()
        assert [row.is_listed for row in announces] == [False]
        assert "https://www.w3.org/ns/activitystreams#Public" not in announces[0].body
        outbox = await moers.client.get("/users/treff/outbox", headers={"Accept": "application/activity+json"})
        assert outbox.json()["totalItems"] == 0
        anonymous = await moers.client.get(status.ap_id.replace("https://moers.test", ""),
                                           headers={"Accept": "application/activity+json"})
        assert anonymous.status_code == 404


async def test_local_only_group_rejects_remote_members(tmp_path: Path) -> None:
    async with federation(tmp_path, MOERS, SOLINGEN) as fed:
        await fed[MOERS].create_account("alice")
        await fed[SOLINGEN].create_account("bob")
        await _found(fed[MOERS], "alice", is_local_only=True)
        await follow(fed[SOLINGEN], "bob", GROUP)
        await fed.drain()
        async with fed[SOLINGEN].site.sessions() as session:
            assert (await session.scalars(select(Follow))).all() == []  # Rejected
        async with fed[MOERS].site.sessions() as session:
            states = (await session.scalars(select(Follow.state))).all()
        assert states == [ACCEPTED]  # alice, the founder, only


async def test_a_residents_like_of_a_group_post_is_announced_by_the_group(tmp_path: Path) -> None:
    from fedserver.local import likes
    from fedserver.local.models.interactions import Like

    async with federation(tmp_path, MOERS, SOLINGEN, KREFELD) as fed:
        group = await _three_cities_with_members(fed)
        await fed[SOLINGEN].post("bob", "@treff@moers.test Wer hilft beim Aufbau?")
        await fed.drain()
        async with fed[MOERS].site.sessions() as session, session.begin():
            dora = await local_actor_in(session, "dora")
            in_group = (await session.scalars(select(Status).where(Status.content_html.contains("Aufbau"),
                                                                   Status.reblog_of_id.is_(None)))).one()
            for _ in range(2):  # a second like is no second Announce
                await likes.like(session, fed[MOERS].site.urls, dora, in_group, now=utcnow())
        outside = await fed[MOERS].post("alice", "Nicht in der Gruppe")
        async with fed[MOERS].site.sessions() as session, session.begin():
            await likes.like(session, fed[MOERS].site.urls, await local_actor_in(session, "dora"), outside,
                             now=utcnow())
        await fed.drain()
        async with fed[MOERS].site.sessions() as session:
            announces = (await session.scalars(select(PublishedActivity).where(
                PublishedActivity.actor_ap_id == group.ap_id, PublishedActivity.type == "Announce"))).all()
        relayed = [a.document() for a in announces if a.document()["object"]["type"] == "Like"]
        assert len(relayed) == 1
        assert relayed[0]["object"]["actor"] == dora.ap_id and relayed[0]["object"]["object"] == in_group.ap_id
        assert relayed[0]["audience"] == group.ap_id and relayed[0]["cc"] == [group.followers_url]
        async with fed[SOLINGEN].site.sessions() as session:  # the author's server got dora's own Like too
            assert await session.scalar(select(Like.id)) is not None


async def _group_announces_of(city: City, group: Actor, kind: str) -> list[dict[str, object]]:
    async with city.site.sessions() as session:
        announces = (await session.scalars(select(PublishedActivity).where(
            PublishedActivity.actor_ap_id == group.ap_id, PublishedActivity.type == "Announce"))).all()
    return [a.document() for a in announces if a.document()["object"]["type"] == kind]


async def test_a_withdrawn_like_is_announced_by_the_group_and_skipped_by_members_servers(tmp_path: Path) -> None:
    from fedserver.inbox.queue import SKIPPED, InboxItem
    from fedserver.local import likes
    from fedserver.local.models.interactions import Like

    async with federation(tmp_path, MOERS, SOLINGEN, KREFELD) as fed:
        group = await _three_cities_with_members(fed)
        await fed[MOERS].post("dora", "@treff Wer hat eine Bohrmaschine?")
        await fed.drain()
        in_group = await _copy(fed[MOERS], "Bohrmaschine")
        copy_at_krefeld = await _copy(fed[KREFELD], "Bohrmaschine")
        assert in_group is not None and copy_at_krefeld is not None
        async with fed[MOERS].site.sessions() as session, session.begin():  # a resident's like and unlike
            alice = await local_actor_in(session, "alice")
            status = await session.get(Status, in_group.id)
            assert status is not None
            await likes.like(session, fed[MOERS].site.urls, alice, status, now=utcnow())
            await likes.unlike(session, fed[MOERS].site.urls, alice, status, now=utcnow())
            await likes.unlike(session, fed[MOERS].site.urls, alice, status, now=utcnow())  # nothing more to undo
        async with fed[KREFELD].site.sessions() as session, session.begin():  # a peer's like and its Undo
            carla = await local_actor_in(session, "carla")
            copy = await session.get(Status, copy_at_krefeld.id)
            assert copy is not None
            await likes.like(session, fed[KREFELD].site.urls, carla, copy, now=utcnow())
        await fed.drain()
        async with fed[KREFELD].site.sessions() as session, session.begin():
            await likes.unlike(session, fed[KREFELD].site.urls, await local_actor_in(session, "carla"),
                               (await session.get(Status, copy_at_krefeld.id)), now=utcnow())  # type: ignore[arg-type]
        await fed.drain()

        undos = await _group_announces_of(fed[MOERS], group, "Undo")
        undone = sorted((undo["object"]["actor"], undo["object"]["object"]["type"],  # type: ignore[index]
                         undo["object"]["object"]["object"]) for undo in undos)  # type: ignore[index]
        carla_ap_id = f"https://{KREFELD}/users/carla"
        assert undone == sorted([(alice.ap_id, "Like", in_group.ap_id), (carla_ap_id, "Like", in_group.ap_id)])
        assert all(undo["audience"] == group.ap_id and undo["cc"] == [group.followers_url] for undo in undos)
        assert len(await _group_announces_of(fed[MOERS], group, "Like")) == 2
        async with fed[MOERS].site.sessions() as session:
            assert (await session.scalars(select(Like))).all() == []
        async with fed[SOLINGEN].site.sessions() as session:  # a member's server: passed on, not counted
            rows = (await session.scalars(select(InboxItem).where(InboxItem.state == SKIPPED))).all()
        notes = sorted(row.note or "" for row in rows)
        assert any(note.startswith("relayed Undo: likes a group passes on") for note in notes), notes
        assert any(note.startswith("relayed Like: likes a group passes on") for note in notes), notes
