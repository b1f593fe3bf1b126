"""Two cities: follow across servers, and posts of every visibility arrive only where they may."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from fedserver.local.models.interactions import ACCEPTED, Follow
from fedserver.local.models.statuses import Status
from tests.federation.cities import federation, follow, local_actor, stored_texts


async def test_follow_is_accepted_and_public_post_arrives(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = fed["moers.test"], fed["solingen.test"]
        await moers.create_account("alice")
        await solingen.create_account("bob")
        await follow(moers, "alice", "bob@solingen.test")
        await fed.drain()
        async with moers.site.sessions() as session:
            assert (await session.scalars(select(Follow.state))).all() == [ACCEPTED]
        async with solingen.site.sessions() as session:
            assert (await session.scalars(select(Follow.state))).all() == [ACCEPTED]
        await solingen.post("bob", "Hallo aus Solingen #Klingenstadt")
        await fed.drain()
        texts = await stored_texts(moers)
        assert len(texts) == 1 and "Hallo aus Solingen" in texts[0]
        async with moers.site.sessions() as session:
            status = (await session.scalars(select(Status))).one()
        assert status.is_local is False and status.visibility == "public"
        assert status.ap_id.startswith("https://solingen.test/users/bob/statuses/")


async def test_visibility_decides_who_receives(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test", "krefeld.test") as fed:
        moers, solingen, krefeld = fed["moers.test"], fed["solingen.test"], fed["krefeld.test"]
        await moers.create_account("alice")
        await solingen.create_account("bob")
        await krefeld.create_account("carla")
        await follow(solingen, "bob", "alice@moers.test")
        await fed.drain()
        await moers.post("alice", "Öffentlich")
        await moers.post("alice", "Nur Folgende", visibility="private")
        from tests.federation.cities import remote_actor

        await remote_actor(moers, "carla@krefeld.test")  # known, so the mention resolves
        await moers.post("alice", "Direkt an @carla@krefeld.test", visibility="direct")
        await fed.drain()
        solingen_texts = " ".join(await stored_texts(solingen))
        krefeld_texts = " ".join(await stored_texts(krefeld))
        assert "Öffentlich" in solingen_texts and "Nur Folgende" in solingen_texts
        assert "Direkt" not in solingen_texts
        assert "Direkt" in krefeld_texts
        assert "Nur Folgende" not in krefeld_texts and "Öffentlich" not in krefeld_texts
        async with solingen.site.sessions() as session:
            visibilities = dict((await session.execute(select(Status.content_html, Status.visibility))).all())
        assert sorted(visibilities.values()) == ["private", "public"]
        async with krefeld.site.sessions() as session:
            assert (await session.scalars(select(Status.visibility))).all() == ["direct"]
        _ = await local_actor(moers, "alice")
