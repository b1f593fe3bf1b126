"""Remote profiles and posts in the web UI. As on Mastodon, visitors who are not signed in see a remote account
only when this city knows it already (nothing is fetched for them), with its public posts only; residents see
remote posts as visibility allows them."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from fedserver.local.models.statuses import Status
from tests.federation.cities import federation, follow
from tests.webui.browser import Visitor

BOB = "bob@solingen.test"


async def _remote_ids(city: object) -> dict[str, int]:
    async with city.site.sessions() as session:  # type: ignore[attr-defined]
        rows = (await session.execute(select(Status.visibility, Status.id).where(Status.is_local.is_(False)))).all()
    return {visibility: status_id for visibility, status_id in rows}


async def test_visitors_see_a_known_remote_profile_with_public_posts_only(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = fed["moers.test"], fed["solingen.test"]
        await moers.create_account("alice")
        await solingen.create_account("bob", display_name="Bob aus Solingen")
        await follow(moers, "alice", BOB)
        await fed.drain()
        await solingen.post("bob", "Klingenstadt öffentlich")
        await solingen.post("bob", "Klingenstadt leise", visibility="unlisted")
        await solingen.post("bob", "Klingenstadt nur für Folgende", visibility="private")
        await fed.drain()
        ids = await _remote_ids(moers)
        assert set(ids) == {"public", "unlisted", "private"}
        async with Visitor(moers) as visitor:
            profile = await visitor.get(f"/@{BOB}")
            public = await visitor.get(f"/@{BOB}/{ids['public']}")
            unlisted = await visitor.get(f"/@{BOB}/{ids['unlisted']}")
            private = await visitor.get(f"/@{BOB}/{ids['private']}")
            unknown = await visitor.get("/@carla@krefeld.test")
        async with Visitor(moers) as alice:
            await alice.log_in("alice")
            followers_post = await alice.get(f"/@{BOB}/{ids['private']}")
            alices_view = await alice.get(f"/@{BOB}")
    assert profile.status_code == 200 and "Bob aus Solingen" in profile.text
    assert "Klingenstadt öffentlich" in profile.text and "leise" not in profile.text and "Folgende" not in profile.text
    assert '<meta name="robots" content="noindex">' in profile.text and "https://solingen.test/" in profile.text
    assert public.status_code == 200 and "Klingenstadt öffentlich" in public.text
    assert unlisted.status_code == 404 and private.status_code == 404 and "Folgende" not in private.text
    assert unknown.status_code == 404  # not known here, and a visitor's request fetches nothing
    assert followers_post.status_code == 200 and "nur für Folgende" in followers_post.text
    assert alices_view.status_code == 200 and "Entfolgen" in alices_view.text


async def test_a_remote_post_under_the_wrong_author_is_not_found(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = fed["moers.test"], fed["solingen.test"]
        await moers.create_account("alice")
        await solingen.create_account("bob")
        await follow(moers, "alice", BOB)
        await fed.drain()
        await solingen.post("bob", "Klingenstadt")
        await fed.drain()
        status_id = (await _remote_ids(moers))["public"]
        async with Visitor(moers) as visitor:
            wrong = await visitor.get(f"/@alice/{status_id}")
            bare = await visitor.get(f"/@bob/{status_id}")  # bob of moers.test: nobody here
    assert wrong.status_code == 404 and bare.status_code == 404
