"""A resident's day: home timeline with paging, posting with an image, replying, boosting, liking, bookmarking,
editing and deleting; following local accounts and answering follow requests; notifications."""
from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from fedserver.local.models.interactions import Bookmark, Follow, Like
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import Status
from tests.cities import City
from tests.webui.browser import Visitor


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_posting_with_an_image_and_alt_text_shows_it_at_home(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        response = await alice.submit("/home", "/statuses", {
            "status": "Schöner Abend am #Schlosspark", "spoiler_text": "", "visibility": "public",
            "description": "Sonnenuntergang über dem Park", "next": "/home"},
            files={"image": ("abend.png", png(), "image/png")})
        assert response.status_code == 303 and response.headers["location"] == "/home"
        home = (await alice.get("/home")).text
    assert "Schöner Abend" in home and 'alt="Sonnenuntergang über dem Park"' in home
    async with moers.site.sessions() as session:
        item = (await session.scalars(select(MediaAttachment))).one()
    assert item.status_id is not None and item.description == "Sonnenuntergang über dem Park"


async def test_a_refused_post_is_explained_and_nothing_is_stored(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        empty = await alice.submit("/home", "/statuses", {"status": "  "})
        broken = await alice.submit("/home", "/statuses", {"status": "Bild"},
                                    files={"image": ("x.png", b"not an image", "image/png")})
    assert empty.status_code == 422 and "braucht einen Text" in empty.text
    assert broken.status_code == 422 and "JPEG" in broken.text
    async with moers.site.sessions() as session:
        assert (await session.scalars(select(Status))).first() is None
        assert (await session.scalars(select(MediaAttachment))).first() is None


async def test_home_pages_older_and_newer_by_id(moers: City) -> None:
    await moers.create_account("alice")
    for number in range(25):
        await moers.post("alice", f"Eintrag {number:02d}")
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        first = (await alice.get("/home")).text
        assert "Eintrag 24" in first and "Eintrag 04" not in first and 'rel="prev"' not in first
        older = first.split('rel="next" href="')[1].split('"')[0]
        second = (await alice.get(f"/home{older}")).text
        assert "Eintrag 04" in second and "Eintrag 05" not in second
        newer = second.split('rel="prev" href="')[1].split('"')[0]
        back = (await alice.get(f"/home{newer}")).text
    assert "Eintrag 05" in back and "Eintrag 24" in back and "Eintrag 04" not in back


async def test_like_boost_bookmark_and_their_undoing(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    status = await moers.post("bob", "Flohmarkt am Samstag")
    page = f"/@bob/{status.id}"
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        for action in ("like", "boost", "bookmark"):
            response = await alice.submit(page, f"/statuses/{status.id}/{action}", {"next": page})
            assert response.status_code == 303 and response.headers["location"] == page
        shown = (await alice.get(page)).text
        assert "Gefällt mir nicht mehr" in shown and "Nicht mehr teilen" in shown and "Lesezeichen entfernen" in shown
        assert "Flohmarkt" in (await alice.get("/bookmarks")).text
        async with moers.site.sessions() as session:
            assert (await session.scalars(select(Like))).first() is not None
            assert (await session.scalars(select(Status).where(Status.reblog_of_id == status.id))).first()
        for action in ("unlike", "unboost", "unbookmark"):
            assert (await alice.submit(page, f"/statuses/{status.id}/{action}", {"next": page})).status_code == 303
    async with moers.site.sessions() as session:
        assert (await session.scalars(select(Like))).first() is None
        assert (await session.scalars(select(Bookmark))).first() is None
        assert (await session.scalars(select(Status).where(Status.reblog_of_id == status.id))).first() is None


async def test_reply_edit_and_delete(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    question = await moers.post("bob", "Wo ist der Bürgerbus?")
    page = f"/@bob/{question.id}"
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        await alice.submit(page, "/statuses", {"status": "Am Neumarkt", "in_reply_to_id": str(question.id),
                                               "visibility": "public", "next": page})
        async with moers.site.sessions() as session:
            reply = (await session.scalars(select(Status).where(Status.in_reply_to_id == question.id))).one()
        assert "Am Neumarkt" in (await alice.get(page)).text
        edited = await alice.submit(f"/statuses/{reply.id}/edit", f"/statuses/{reply.id}/edit",
                                    {"status": "Am Neumarkt, Haltestelle 3", "next": page})
        assert edited.status_code == 303
        assert "Haltestelle 3" in (await alice.get(page)).text
        not_mine = await alice.submit(page, f"/statuses/{question.id}/delete", {"next": page})
        assert not_mine.status_code == 404
        gone = await alice.submit(page, f"/statuses/{reply.id}/delete", {"next": f"/@alice/{reply.id}"})
        assert gone.status_code == 303 and gone.headers["location"] == "/home"
    async with moers.site.sessions() as session:
        assert await session.get(Status, reply.id) is None
        assert await session.get(Status, question.id) is not None


async def test_following_brings_posts_home_and_locked_accounts_approve(moers: City) -> None:
    await moers.create_account("alice")
    bob = await moers.create_account("bob")
    carla = await moers.create_account("carla", manually_approves_followers=True)
    await moers.post("bob", "Neues vom Kastell")
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        found = await alice.get("/search", params={"q": "bo"})
        assert "@bob" in found.text
        await alice.submit("/@bob", f"/accounts/{bob.actor_id}/follow", {"next": "/@bob"})
        assert "Neues vom Kastell" in (await alice.get("/home")).text
        await alice.submit("/@carla", f"/accounts/{carla.actor_id}/follow", {"next": "/@carla"})
        assert "Anfrage gesendet" in (await alice.get("/@carla")).text
    async with Visitor(moers) as carla_browser:
        await carla_browser.log_in("carla")
        requests = await carla_browser.get("/follow_requests")
        assert "@alice" in requests.text
        alice_id = (await _actor_id(moers, "alice"))
        await carla_browser.submit("/follow_requests", f"/follow_requests/{alice_id}/approve")
        notes = (await carla_browser.get("/notifications")).text
    async with moers.site.sessions() as session:
        follow = (await session.scalars(select(Follow).where(Follow.target_id == carla.actor_id))).one()
    assert follow.state == "accepted"
    assert "folgt Ihnen jetzt" in notes or "möchte Ihnen folgen" not in notes


async def test_notifications_tell_of_likes(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob", display_name="Bob")
    status = await moers.post("alice", "Mein Garten")
    async with Visitor(moers) as bob:
        await bob.log_in("bob")
        await bob.submit(f"/@alice/{status.id}", f"/statuses/{status.id}/like")
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        page = (await alice.get("/notifications")).text
    assert "Bob" in page and "gefällt Ihr Beitrag" in page and "Mein Garten" in page


async def test_signed_in_pages_need_a_log_in(moers: City) -> None:
    async with Visitor(moers) as visitor:
        for path in ("/home", "/notifications", "/bookmarks", "/search", "/settings", "/follow_requests",
                     "/settings/export", "/settings/delete"):
            response = await visitor.get(path)
            assert response.status_code == 303 and response.headers["location"] == f"/login?next={path}", path


async def _actor_id(city: City, username: str) -> int:
    from fedserver.local import accounts
    async with city.site.sessions() as session:
        return (await accounts.find_by_username(session, username)).actor_id
