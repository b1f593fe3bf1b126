"""Two cities: replies thread, boosts, likes, edits and deletes propagate; locked accounts approve."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from fedserver.db import utcnow
from fedserver.local import boosts, follows, likes, remote_statuses, statuses
from fedserver.local.errors import NotAllowed
from fedserver.local.models.interactions import ACCEPTED, PENDING, Follow, Like
from fedserver.local.models.interactions import Block as BlockRow
from fedserver.local.models.notifications import Notification
from fedserver.local.models.statuses import Status, StatusEdit
from tests.cities import City
from tests.federation.cities import Federation, actor_by_ap_id, federation, follow, local_actor, stored_texts


async def _pair(fed: Federation) -> tuple[City, City]:
    moers, solingen = fed["moers.test"], fed["solingen.test"]
    await moers.create_account("alice")
    await solingen.create_account("bob")
    await follow(solingen, "bob", "alice@moers.test")
    await follow(moers, "alice", "bob@solingen.test")
    await fed.drain()
    return moers, solingen


async def _find(city: City, ap_id: str) -> Status | None:
    async with city.site.sessions() as session:
        return await remote_statuses.find(session, ap_id)


async def _notification_kinds(city: City) -> list[str]:
    async with city.site.sessions() as session:
        return list((await session.scalars(select(Notification.kind).order_by(Notification.id))).all())


async def test_reply_threads_on_both_sides(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = await _pair(fed)
        original = await moers.post("alice", "Wer kommt zum Schlossparkfest?")
        await fed.drain()
        copy = await _find(solingen, original.ap_id)
        assert copy is not None
        reply = await solingen.post("bob", "@alice@moers.test Ich!", in_reply_to=copy)
        await fed.drain()
        arrived = await _find(moers, reply.ap_id)
        assert arrived is not None
        assert arrived.in_reply_to_id == original.id
        assert arrived.thread_ap_id == original.ap_id
        assert "mention" in await _notification_kinds(moers)


async def test_boost_and_like_reach_the_author_and_undo(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = await _pair(fed)
        original = await moers.post("alice", "Neue Radroute eröffnet")
        await fed.drain()
        copy = await _find(solingen, original.ap_id)
        assert copy is not None
        async with solingen.site.sessions() as session, session.begin():
            bob = await local_actor(solingen, "bob")
            bob = await session.merge(bob)
            status = await session.merge(copy)
            await likes.like(session, solingen.site.urls, bob, status, now=utcnow())
            await boosts.boost(session, solingen.site.urls, bob, status, now=utcnow())
        await fed.drain()
        async with moers.site.sessions() as session:
            assert await session.scalar(select(func.count(Like.id))) == 1
            boost_rows = (await session.scalars(select(Status).where(Status.reblog_of_id == original.id))).all()
        assert len(boost_rows) == 1
        assert sorted(await _notification_kinds(moers)) == ["favourite", "follow", "reblog"]
        async with solingen.site.sessions() as session, session.begin():
            bob = await session.merge(await local_actor(solingen, "bob"))
            status = await session.merge(copy)
            await likes.unlike(session, solingen.site.urls, bob, status, now=utcnow())
            await boosts.unboost(session, solingen.site.urls, bob, status, now=utcnow())
        await fed.drain()
        async with moers.site.sessions() as session:
            assert await session.scalar(select(func.count(Like.id))) == 0
            assert await session.scalar(select(func.count(Status.id)).where(Status.reblog_of_id.is_not(None))) == 0
        assert await _notification_kinds(moers) == ["follow"]


async def test_edit_and_delete_propagate(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = await _pair(fed)
        original = await moers.post("alice", "Markt am Samstag")
        await fed.drain()
        async with moers.site.sessions() as session, session.begin():
            status, author = await statuses.find_local(session, original.id)
            await statuses.edit(session, moers.site.urls, status, author, "Markt am Sonntag", now=utcnow())
        await fed.drain()
        copy = await _find(solingen, original.ap_id)
        assert copy is not None and "Sonntag" in copy.content_html and copy.edited_at is not None
        async with solingen.site.sessions() as session:
            history = (await session.scalars(select(StatusEdit.content_html))).all()
        assert len(history) == 1 and "Samstag" in history[0]
        async with moers.site.sessions() as session, session.begin():
            status, author = await statuses.find_local(session, original.id)
            await statuses.delete(session, moers.site.urls, status, author, now=utcnow())
        await fed.drain()
        assert await _find(solingen, original.ap_id) is None
        async with solingen.site.sessions() as session:
            assert await session.scalar(select(func.count(StatusEdit.id))) == 0
        assert "Markt" not in " ".join(await stored_texts(solingen))


async def test_locked_account_approves_follow_request(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = fed["moers.test"], fed["solingen.test"]
        await moers.create_account("alice", manually_approves_followers=True)
        await solingen.create_account("bob")
        await follow(solingen, "bob", "alice@moers.test")
        await fed.drain()
        async with moers.site.sessions() as session:
            pending = (await session.scalars(select(Follow))).one()
        assert pending.state == PENDING
        assert await _notification_kinds(moers) == ["follow_request"]
        await moers.post("alice", "Nur für meine Leute", visibility="private")
        await fed.drain()
        assert await stored_texts(solingen) == []
        async with moers.site.sessions() as session, session.begin():
            request = await session.merge(pending)
            await follows.approve(session, moers.site.urls, request, now=utcnow())
        await fed.drain()
        async with solingen.site.sessions() as session:
            assert (await session.scalars(select(Follow.state))).all() == [ACCEPTED]
        await moers.post("alice", "Jetzt für Bob sichtbar", visibility="private")
        await fed.drain()
        assert ["Jetzt für Bob sichtbar" in text for text in await stored_texts(solingen)] == [True]


async def test_unfollow_stops_delivery(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = await _pair(fed)
        async with solingen.site.sessions() as session, session.begin():
            bob = await session.merge(await local_actor(solingen, "bob"))
            alice = await session.merge(await actor_by_ap_id(solingen, "https://moers.test/users/alice"))
            await follows.end(session, solingen.site.urls, bob, alice, now=utcnow())
        await fed.drain()
        async with moers.site.sessions() as session:
            followers = (await session.execute(select(Follow.follower_id, Follow.target_id))).all()
        assert len(followers) == 1  # alice still follows bob; bob's follow of alice is gone
        await moers.post("alice", "Nach dem Entfolgen")
        await fed.drain()
        assert "Entfolgen" not in " ".join(await stored_texts(solingen))


async def test_profile_update_reaches_followers(tmp_path: Path) -> None:
    from fedserver.local import profiles

    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = await _pair(fed)
        async with moers.site.sessions() as session, session.begin():
            alice = await session.merge(await local_actor(moers, "alice"))
            await profiles.update(session, moers.site.urls, alice, display_name="Alice aus Moers",
                                  note="Ich mag #Radfahren", manually_approves_followers=True, now=utcnow())
        await fed.drain()
        copy = await actor_by_ap_id(solingen, "https://moers.test/users/alice")
        assert copy.display_name == "Alice aus Moers"
        assert "Radfahren" in copy.summary_html
        assert copy.manually_approves_followers is True


async def test_block_ends_follows_and_refuses_new_ones(tmp_path: Path) -> None:
    from fedserver.local import blocks

    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = await _pair(fed)
        async with moers.site.sessions() as session, session.begin():
            alice = await session.merge(await local_actor(moers, "alice"))
            bob = await session.merge(await actor_by_ap_id(moers, "https://solingen.test/users/bob"))
            await blocks.block(session, moers.site.urls, alice, bob, now=utcnow())
        await fed.drain()
        for city in (moers, solingen):
            async with city.site.sessions() as session:
                assert (await session.scalars(select(Follow))).all() == []
        with pytest.raises(NotAllowed, match="block"):  # solingen knows of the block and refuses at once
            await follow(solingen, "bob", "alice@moers.test")
        async with solingen.site.sessions() as session, session.begin():  # a server that ignored the Block
            await session.execute(delete(BlockRow))
        await follow(solingen, "bob", "alice@moers.test")
        await fed.drain()
        for city in (moers, solingen):  # moers answered the Follow with Reject
            async with city.site.sessions() as session:
                assert (await session.scalars(select(Follow))).all() == [], city.settings.domain
        await moers.post("alice", "Nicht für Bob")
        await fed.drain()
        assert "Nicht für Bob" not in " ".join(await stored_texts(solingen))


async def test_like_undo_like_are_three_activities_and_end_liked(tmp_path: Path) -> None:
    from fedserver.inbox.queue import InboxItem

    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = await _pair(fed)
        original = await moers.post("alice", "Gefällt mir?")
        await fed.drain()
        copy = await _find(solingen, original.ap_id)
        for action in (likes.like, likes.unlike, likes.like):
            async with solingen.site.sessions() as session, session.begin():
                bob = await session.merge(await local_actor(solingen, "bob"))
                await action(session, solingen.site.urls, bob, await session.merge(copy), now=utcnow())
            await fed.drain()
        async with moers.site.sessions() as session:
            received = (await session.execute(select(InboxItem.activity_type, InboxItem.activity_ap_id)
                                              .where(InboxItem.activity_type.in_(["Like", "Undo"]))
                                              .order_by(InboxItem.id))).all()
            assert await session.scalar(select(func.count(Like.id))) == 1
        assert [kind for kind, _ in received] == ["Like", "Undo", "Like"]
        assert len({ap_id for _, ap_id in received}) == 3
