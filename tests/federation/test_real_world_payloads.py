"""Real-world activities (tests/fixtures/<software>/<activity>_*.json) delivered by a peer of that software.

Each fixture is moved onto the peer's origin (so the origin checks hold), signed the way that software
signs, POSTed to the city's shared inbox and drained; then its effect is asserted. Activities we do not
support are stored and skipped with a reason on the inbox row, never a crash.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from fedserver.inbox.queue import DONE, SKIPPED, InboxItem
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import ACCEPTED, PENDING, Block, Follow, Like
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.notifications import Notification
from fedserver.local.models.polls import Poll, PollOption
from fedserver.local.models.statuses import Status, StatusEdit, StatusTag, Tag
from tests.cities import City
from tests.federation.cities import Federation, federation, follow, local_actor
from tests.federation.peer import Peer, PeerActor, start_peer

MOERS = "moers.test"


@dataclass
class World:
    fed: Federation
    city: City
    peer: Peer
    alice: str  # alice's IRI at the city


@asynccontextmanager
async def _world(tmp_path: Path, software: str, host: str) -> AsyncIterator[World]:
    async with federation(tmp_path, MOERS) as fed, start_peer(fed, host, software) as peer:
        city = fed[MOERS]
        await city.create_account("alice")
        try:
            yield World(fed, city, peer, (await local_actor(city, "alice")).ap_id)
        except BaseException:
            # asgi-lifespan skips the app's shutdown when the body raised, so the engine is never
            # disposed and its pooled SQLite connections would reach the GC open (a ResourceWarning
            # that filterwarnings=error pins on some later test).
            await city.site.engine.dispose()
            raise


async def _deliver(world: World, activity: dict[str, Any], actor: PeerActor | None = None) -> None:
    response = await world.peer.deliver(world.city, activity, actor)
    assert response.status_code == 202, response.text
    await world.fed.drain()


async def _inbox_row(city: City, activity_ap_id: str) -> InboxItem:
    async with city.site.sessions() as session:
        row = (await session.scalars(select(InboxItem).where(InboxItem.activity_ap_id == activity_ap_id))).one()
    return row


async def _status(city: City, ap_id: str) -> Status | None:
    async with city.site.sessions() as session:
        return (await session.scalars(select(Status).where(Status.ap_id == ap_id))).first()


async def _tags(city: City, status: Status) -> list[str]:
    async with city.site.sessions() as session:
        query = select(Tag.name).join(StatusTag, StatusTag.tag_id == Tag.id).where(StatusTag.status_id == status.id)
        return sorted((await session.scalars(query)).all())


async def _media(city: City, status: Status) -> list[MediaAttachment]:
    async with city.site.sessions() as session:
        query = select(MediaAttachment).where(MediaAttachment.status_id == status.id).order_by(MediaAttachment.position)
        return list((await session.scalars(query)).all())


async def _notification_kinds(city: City) -> list[str]:
    async with city.site.sessions() as session:
        return list((await session.scalars(select(Notification.kind).order_by(Notification.id))).all())


async def _count(city: City, column: Any, *where: Any) -> int:
    async with city.site.sessions() as session:
        return int(await session.scalar(select(func.count(column)).where(*where)) or 0)


async def _assert_applied(city: City, activity: dict[str, Any]) -> None:
    row = await _inbox_row(city, activity["id"])
    assert (row.state, row.note) == (DONE, ""), f"{activity['type']}: {row.state} {row.note}"


# ------------------------------------------------------------------------------------------ Create


async def test_mastodon_note_with_mention_hashtag_and_image_is_stored(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        world.peer.add_actor("felix")
        activity = world.peer.adopt("mastodon/create_note.json", {"https://mamot.fr/users/retiolus": world.alice})
        await _deliver(world, activity)
        await _assert_applied(world.city, activity)
        status = await _status(world.city, activity["object"]["id"])
        assert status is not None and not status.is_local
        assert status.visibility == "public" and status.language == "en"
        assert "the new" in status.content_html and "<script" not in status.content_html
        assert status.url == "https://mastodon.test/@felix/107224501937456802"
        assert await _tags(world.city, status) == ["lemmy"]
        [image] = await _media(world.city, status)
        assert (image.kind, image.content_type, image.width, image.height) == ("image", "image/png", 1200, 800)
        assert (image.remote_url or "").startswith("https://mastodon.test/system/media_attachments/")
        assert image.description == "Screenshot of the release notes" and image.blurhash
        assert await _notification_kinds(world.city) == ["mention"]  # alice is the mentioned account


async def test_pleroma_note_with_litepub_context_is_stored(tmp_path: Path) -> None:
    async with _world(tmp_path, "pleroma", "pleroma.test") as world:
        world.peer.add_actor("nutomic")
        activity = world.peer.adopt("pleroma/create_note.json", {"https://enterprise.lemmy.ml/u/picard": world.alice})
        await _deliver(world, activity)
        await _assert_applied(world.city, activity)
        status = await _status(world.city, activity["object"]["id"])
        assert status is not None and status.visibility == "public"
        assert status.content_html.endswith(" test") and status.spoiler_text == ""
        assert status.in_reply_to_ap_id == "https://enterprise.lemmy.ml/post/55143"
        assert status.thread_ap_id == activity["object"]["context"]  # Pleroma's context is the thread
        assert await _notification_kinds(world.city) == ["mention"]


async def test_misskey_quote_note_is_stored_with_its_html_content(tmp_path: Path) -> None:
    async with _world(tmp_path, "misskey", "misskey.test") as world:
        quoted = await world.city.post("alice", "Die Rheinbrücke ist wieder offen")
        world.peer.add_actor("9a1b2c3d4e")
        activity = world.peer.adopt(
            "misskey/create_note_quote.json",
            {"https://mastodon.madrid/users/felix/statuses/107224501937456802": quoted.ap_id})
        await _deliver(world, activity)
        await _assert_applied(world.city, activity)
        status = await _status(world.city, activity["object"]["id"])
        assert status is not None and status.visibility == "public"
        # content (HTML) wins over _misskey_content (MFM source); the quote stays a readable link.
        assert "$[tada" not in status.content_html and "RE: " in status.content_html
        assert quoted.ap_id in status.content_html
        assert await _tags(world.city, status) == ["moers"]


async def test_gotosocial_note_is_accepted_through_its_key_stub(tmp_path: Path) -> None:
    async with _world(tmp_path, "gotosocial", "gts.test") as world:
        world.peer.add_actor("the_mighty_zork")
        activity = world.peer.adopt("gotosocial/create_note.json")
        await _deliver(world, activity)
        await _assert_applied(world.city, activity)
        status = await _status(world.city, activity["object"]["id"])
        assert status is not None and status.visibility == "public"  # "to" is a single IRI, not a list
        assert (status.spoiler_text, status.is_sensitive, status.language) == ("introduction post", True, "en")
        assert status.content_html == "hello everyone!"
        # GoToSocial answers only signed GETs: the key stub and the actor were both fetched signed.
        assert world.peer.fetches and all(signed for _, signed in world.peer.fetches)


async def test_pixelfed_image_post_is_stored_with_its_image(tmp_path: Path) -> None:
    async with _world(tmp_path, "pixelfed", "pixelfed.test") as world:
        world.peer.add_actor("lena")
        activity = world.peer.adopt("pixelfed/create_note_image.json")
        await _deliver(world, activity)  # PHP's json_encode escapes every "/" as "\/"
        await _assert_applied(world.city, activity)
        status = await _status(world.city, activity["object"]["id"])
        assert status is not None and status.visibility == "public"
        assert "Sonnenuntergang am Rhein" in status.content_html
        assert await _tags(world.city, status) == ["niederrhein"]
        [image] = await _media(world.city, status)
        assert (image.kind, image.content_type, image.width) == ("image", "image/jpeg", 1440)
        assert image.description == "Die Sonne geht hinter der Rheinbrücke unter"


async def test_lemmy_page_is_stored_with_title_and_link(tmp_path: Path) -> None:
    async with _world(tmp_path, "lemmy", "lemmy.test") as world:
        world.peer.add_actor("lemmy_alpha")
        world.peer.add_actor("main", fixture="lemmy/group.json", path="/c/{name}")
        activity = world.peer.adopt("lemmy/create_page.json")
        await _deliver(world, activity)
        await _assert_applied(world.city, activity)
        status = await _status(world.city, activity["object"]["id"])
        assert status is not None and status.object_type == "Page" and status.title == "test post"
        assert status.visibility == "public" and "test body" in status.content_html
        [link] = await _media(world.city, status)
        assert link.remote_url == "https://lemmy.ml/pictrs/image/xl8W7FZfk9.jpg"


async def test_lemmy_community_announce_of_a_page_stores_the_page(tmp_path: Path) -> None:
    async with _world(tmp_path, "lemmy", "lemmy.test") as world:
        world.peer.add_actor("lemmy_alpha")
        world.peer.add_actor("main", fixture="lemmy/group.json", path="/c/{name}")
        activity = world.peer.adopt("lemmy/announce_create_page.json")
        # Lemmy serves its activities and posts at their ids, as a receiver may re-fetch them.
        world.peer.serve(dict(activity["object"], **{"@context": activity["@context"]}))
        world.peer.serve(dict(activity["object"]["object"], **{"@context": activity["@context"]}))
        await _deliver(world, activity)
        page = await _status(world.city, activity["object"]["object"]["id"])
        assert page is not None and page.title == "post 4"
        async with world.city.site.sessions() as session:
            author = await session.get(Actor, page.author_id)
        assert author is not None and author.ap_id == world.peer.origin + "/u/lemmy_alpha"
        await _assert_applied(world.city, activity)


async def test_lemmy_community_relayed_delete_removes_the_page_only_once_it_is_gone(tmp_path: Path) -> None:
    async with _world(tmp_path, "lemmy", "lemmy.test") as world:
        world.peer.add_actor("lemmy_alpha")
        world.peer.add_actor("main", fixture="lemmy/group.json", path="/c/{name}")
        create = world.peer.adopt("lemmy/announce_create_page.json")
        page = dict(create["object"]["object"], **{"@context": create["@context"]})
        world.peer.serve(page)
        await _deliver(world, create)
        inner_delete = {"id": world.peer.origin + "/activities/delete/1", "type": "Delete",
                        "actor": create["object"]["actor"], "object": page["id"], "to": create["to"]}
        relay = {"@context": create["@context"], "id": world.peer.origin + "/activities/announce/delete/1",
                 "type": "Announce", "actor": create["actor"], "object": inner_delete, "to": create["to"]}
        await _deliver(world, relay)  # the page is still served: a forged relay must not delete it
        assert await _status(world.city, page["id"]) is not None
        assert "still exists" in (await _inbox_row(world.city, relay["id"])).note
        world.peer.forget(page["id"])
        relay_again = dict(relay, id=relay["id"] + "-again", object=dict(inner_delete, id=inner_delete["id"] + "b"))
        await _deliver(world, relay_again)
        assert await _status(world.city, page["id"]) is None


async def test_lemmy_community_announce_of_the_page_itself_stores_page_and_boost(tmp_path: Path) -> None:
    async with _world(tmp_path, "lemmy", "lemmy.test") as world:
        world.peer.add_actor("lemmy_alpha")
        community = world.peer.add_actor("main", fixture="lemmy/group.json", path="/c/{name}")
        activity = world.peer.adopt("lemmy/announce_page.json")
        page = {key: value for key, value in activity["object"].items() if key != "actor"}
        world.peer.serve(dict(page, **{"@context": activity["@context"]}))
        await _deliver(world, activity)  # the compat form Lemmy sends next to Announce{Create{Page}}
        await _assert_applied(world.city, activity)
        stored = await _status(world.city, page["id"])
        assert stored is not None and stored.object_type == "Page" and stored.title == "post 4"
        async with world.city.site.sessions() as session:
            author = await session.get(Actor, stored.author_id)
            [boost] = (await session.scalars(select(Status).where(Status.reblog_of_id == stored.id))).all()
            booster = await session.get(Actor, boost.author_id)
        assert author is not None and author.ap_id == world.peer.origin + "/u/lemmy_alpha"
        assert booster is not None and booster.ap_id == community.ap_id and booster.kind == "Group"


async def test_mobilizon_event_is_stored_as_an_event(tmp_path: Path) -> None:
    async with _world(tmp_path, "mobilizon", "mobilizon.test") as world:
        world.peer.add_actor("Alicia")
        activity = world.peer.adopt("mobilizon/create_event.json", {"https://framapiaf.org/users/tcit": world.alice})
        await _deliver(world, activity)
        await _assert_applied(world.city, activity)
        status = await _status(world.city, activity["object"]["id"])
        assert status is not None and status.object_type == "Event" and status.title == "My first event"
        assert status.visibility == "public"
        assert await _notification_kinds(world.city) == ["mention"]


async def test_mastodon_question_is_stored_as_a_post(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        world.peer.add_actor("felix")
        activity = world.peer.adopt("mastodon/create_question.json")
        await _deliver(world, activity)
        await _assert_applied(world.city, activity)
        status = await _status(world.city, activity["object"]["id"])
        assert status is not None and status.object_type == "Question"
        assert "Linux-Distribution" in status.content_html and status.language == "de"


async def test_mastodon_question_keeps_its_poll_options(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        world.peer.add_actor("felix")
        activity = world.peer.adopt("mastodon/create_question.json")
        await _deliver(world, activity)
        status = await _status(world.city, activity["object"]["id"])
        assert status is not None
        async with world.city.site.sessions() as session:
            poll = (await session.scalars(select(Poll).where(Poll.status_id == status.id))).one()
            options = (await session.execute(select(PollOption.title, PollOption.votes_count)
                                             .where(PollOption.poll_id == poll.id)
                                             .order_by(PollOption.position))).all()
        assert [tuple(option) for option in options] == [("Debian", 2), ("Arch", 1), ("NixOS", 0)]
        assert poll.voters_count == 3 and not poll.is_multiple and poll.expires_at is not None


async def test_mastodon_poll_closing_update_is_not_an_edit(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        world.peer.add_actor("felix")
        await _deliver(world, world.peer.adopt("mastodon/create_question.json"))
        update = world.peer.adopt("mastodon/update_question.json")
        await _deliver(world, update)
        status = await _status(world.city, update["object"]["id"])
        edits = await _count(world.city, StatusEdit.id)
        row = await _inbox_row(world.city, update["id"])
    assert row.state in (DONE, SKIPPED), row.note
    assert status is not None and "Linux-Distribution" in status.content_html
    assert (status.edited_at, edits) == (None, 0), "closing a poll is not an edit of the post"


# ------------------------------------------------------------------------------------------ Follow


@pytest.mark.parametrize(("software", "host", "fixture", "username", "followed"), [
    pytest.param("mastodon", "mastodon.test", "mastodon/follow.json", "felix", "https://mamot.fr/users/retiolus",
                 id="mastodon"),
    pytest.param("gotosocial", "gts.test", "gotosocial/follow.json", "the_mighty_zork",
                 "http://localhost:8080/users/1happyturtle", id="gotosocial"),
])
async def test_follow_is_accepted_and_the_accept_reaches_the_peer(
        tmp_path: Path, software: str, host: str, fixture: str, username: str, followed: str) -> None:
    async with _world(tmp_path, software, host) as world:
        follower = world.peer.add_actor(username)
        activity = world.peer.adopt(fixture, {followed: world.alice})
        await _deliver(world, activity)
        await _assert_applied(world.city, activity)
        async with world.city.site.sessions() as session:
            follow = (await session.scalars(select(Follow))).one()
            assert follow.state == ACCEPTED and follow.ap_id == activity["id"]
            assert (await session.get(Actor, follow.follower_id)).ap_id == follower.ap_id  # type: ignore[union-attr]
        [accept] = [r for r in world.peer.received if r.activity.get("type") == "Accept"]
        assert accept.verified, "the city's Accept must carry a signature the peer can check"
        assert accept.key_id.startswith(world.alice)
        inner = accept.activity["object"]
        assert (inner if isinstance(inner, str) else inner["id"]) == activity["id"]
        assert await _notification_kinds(world.city) == ["follow"]


async def test_undo_follow_ends_the_follow(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        world.peer.add_actor("felix")
        mapping = {"https://mamot.fr/users/retiolus": world.alice}
        await _deliver(world, world.peer.adopt("mastodon/follow.json", mapping))
        assert await _count(world.city, Follow.id) == 1
        undo = world.peer.adopt("mastodon/undo_follow.json", mapping)
        await _deliver(world, undo)
        await _assert_applied(world.city, undo)
        assert await _count(world.city, Follow.id) == 0


async def test_accept_of_our_follow_marks_it_accepted(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        world.peer.add_actor("felix")
        await follow(world.city, "alice", world.peer.handle())  # WebFinger on the peer, then the actor
        async with world.city.site.sessions() as session:
            follow_id = (await session.scalars(select(Follow.ap_id))).one()
        await world.fed.drain()
        [sent] = [r for r in world.peer.received if r.activity.get("type") == "Follow"]
        assert sent.verified and sent.activity["id"] == follow_id and sent.path == "/users/felix/inbox"
        accept = world.peer.adopt("mastodon/accept_follow.json", {
            "https://mamot.fr/users/retiolus/activities/7": str(follow_id),
            "https://mamot.fr/users/retiolus": world.alice})
        async with world.city.site.sessions() as session:
            assert (await session.scalars(select(Follow.state))).one() == PENDING
        await _deliver(world, accept)
        await _assert_applied(world.city, accept)
        async with world.city.site.sessions() as session:
            assert (await session.scalars(select(Follow.state))).one() == ACCEPTED


# ------------------------------------------------------------------------------- Like and reactions


async def test_mastodon_like_of_a_local_status_is_counted(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        world.peer.add_actor("felix")
        status = await world.city.post("alice", "Wochenmarkt heute bis 13 Uhr")
        like = world.peer.adopt("mastodon/like.json",
                                {"https://mamot.fr/users/retiolus/statuses/107224244380204526": status.ap_id})
        await _deliver(world, like)
        await _assert_applied(world.city, like)
        assert await _count(world.city, Like.id, Like.status_id == status.id) == 1
        assert await _notification_kinds(world.city) == ["favourite"]


async def test_misskey_reaction_is_a_like(tmp_path: Path) -> None:
    async with _world(tmp_path, "misskey", "misskey.test") as world:
        world.peer.add_actor("9a1b2c3d4e")
        status = await world.city.post("alice", "Katzen im Tierheim suchen ein Zuhause")
        # Misskey sends every reaction as a Like with _misskey_reaction (ApRendererService.renderLike).
        reaction = world.peer.adopt("misskey/like_reaction.json",
                                    {"https://mastodon.madrid/users/felix/statuses/107224501937456802": status.ap_id})
        await _deliver(world, reaction)
        await _assert_applied(world.city, reaction)
        assert await _count(world.city, Like.id, Like.status_id == status.id) == 1


async def test_pleroma_emoji_react_is_stored_and_skipped(tmp_path: Path) -> None:
    async with _world(tmp_path, "pleroma", "pleroma.test") as world:
        world.peer.add_actor("nutomic")
        status = await world.city.post("alice", "Herbstkirmes ab Freitag")
        react = world.peer.adopt("pleroma/emojireact.json", {"https://enterprise.lemmy.ml/post/55143": status.ap_id,
                                                             "https://enterprise.lemmy.ml/u/picard": world.alice})
        await _deliver(world, react)
        row = await _inbox_row(world.city, react["id"])
        assert row.state == SKIPPED and "EmojiReact is not supported" in row.note and row.body == ""
        assert await _count(world.city, Like.id) == 0


# ------------------------------------------------------------------------------------------ Announce


async def test_mastodon_announce_of_a_local_status_is_a_boost(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        felix = world.peer.add_actor("felix")
        status = await world.city.post("alice", "Radweg am Rhein wieder frei")
        announce = world.peer.adopt("mastodon/announce.json", {
            "https://mamot.fr/users/retiolus/statuses/107224244380204526": status.ap_id,
            "https://mamot.fr/users/retiolus": world.alice})
        await _deliver(world, announce)
        await _assert_applied(world.city, announce)
        async with world.city.site.sessions() as session:
            [boost] = (await session.scalars(select(Status).where(Status.reblog_of_id == status.id))).all()
            booster = await session.get(Actor, boost.author_id)
        assert booster is not None and booster.ap_id == felix.ap_id and boost.visibility == "public"
        assert await _notification_kinds(world.city) == ["reblog"]


async def test_mastodon_announce_of_a_remote_post_fetches_and_stores_it(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        felix = world.peer.add_actor("felix")
        world.peer.add_actor("retiolus")
        # felix boosts retiolus's post; the city does not have it and must fetch it from its origin.
        retiolus = world.peer.origin + "/users/retiolus"
        post = world.peer.serve(world.peer.adopt("mastodon/note_public.json",
                                                 {"https://mastodon.madrid/users/felix": retiolus}))
        announce = world.peer.adopt("mastodon/announce.json", {
            "https://mamot.fr/users/retiolus/statuses/107224244380204526": post["id"],
            "https://mamot.fr/users/retiolus": retiolus})
        await _deliver(world, announce)
        await _assert_applied(world.city, announce)
        original = await _status(world.city, post["id"])
        assert original is not None and original.visibility == "public"
        async with world.city.site.sessions() as session:
            [boost] = (await session.scalars(select(Status).where(Status.reblog_of_id == original.id))).all()
            booster = await session.get(Actor, boost.author_id)
            author = await session.get(Actor, original.author_id)
        assert booster is not None and booster.ap_id == felix.ap_id
        assert author is not None and author.ap_id == retiolus


async def test_redelivered_create_is_stored_once(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        world.peer.add_actor("felix")
        activity = world.peer.adopt("mastodon/create_note.json")
        await _deliver(world, activity)
        await _deliver(world, activity)  # Mastodon retries a delivery whose answer it did not see
        assert await _count(world.city, Status.id, Status.ap_id == activity["object"]["id"]) == 1
        assert await _count(world.city, InboxItem.id) == 1


# ------------------------------------------------------------------------------------ Update, Delete


async def test_mastodon_update_note_changes_the_content(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        world.peer.add_actor("felix")
        await _deliver(world, world.peer.adopt("mastodon/create_note.json"))
        update = world.peer.adopt("mastodon/update_note.json")
        await _deliver(world, update)
        await _assert_applied(world.city, update)
        status = await _status(world.city, update["object"]["id"])
        assert status is not None and "changelog linked below" in status.content_html
        assert status.edited_at is not None
        assert await _count(world.city, StatusEdit.id, StatusEdit.status_id == status.id) == 1
        assert await _tags(world.city, status) == ["lemmy"] and len(await _media(world.city, status)) == 1


async def test_mastodon_update_person_changes_the_profile(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        felix = world.peer.add_actor("felix")
        await _deliver(world, world.peer.adopt("mastodon/create_note.json"))  # the city now knows felix
        update = world.peer.adopt("mastodon/update_person.json")
        update["object"]["publicKey"] = felix.document["publicKey"]  # Mastodon sends the account's own key
        await _deliver(world, update)
        await _assert_applied(world.city, update)
        async with world.city.site.sessions() as session:
            actor = (await session.scalars(select(Actor).where(Actor.ap_id == felix.ap_id))).one()
        assert actor.display_name == "Félix (Niederrhein)" and "Jetzt in Moers" in actor.summary_html
        # The key still verifies after the update: a later activity is accepted.
        await _deliver(world, world.peer.adopt("mastodon/like.json"))


async def test_mastodon_delete_of_a_note_removes_it(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        world.peer.add_actor("felix")
        create = world.peer.adopt("mastodon/create_note.json")
        await _deliver(world, create)
        status = await _status(world.city, create["object"]["id"])
        assert status is not None
        world.peer.forget(create["object"]["id"])  # Mastodon answers 410 for a deleted status
        delete = world.peer.adopt("mastodon/delete_tombstone.json")
        await _deliver(world, delete)
        await _assert_applied(world.city, delete)
        assert await _status(world.city, create["object"]["id"]) is None
        assert await _count(world.city, MediaAttachment.id) == 0 and await _count(world.city, StatusTag.tag_id) == 0


async def test_mastodon_delete_of_an_actor_removes_the_actor_and_their_posts(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        felix = world.peer.add_actor("felix")
        mapping = {"https://mamot.fr/users/retiolus": world.alice}
        await _deliver(world, world.peer.adopt("mastodon/create_note.json"))
        await _deliver(world, world.peer.adopt("mastodon/follow.json", mapping))
        world.peer.forget(felix.ap_id)  # the account is gone: 410
        delete = world.peer.adopt("mastodon/delete_actor.json")
        await _deliver(world, delete)
        await _assert_applied(world.city, delete)
        assert await _count(world.city, Actor.id, Actor.ap_id == felix.ap_id) == 0
        assert await _count(world.city, Status.id, Status.is_local.is_(False)) == 0
        assert await _count(world.city, Follow.id) == 0


async def test_delete_of_an_actor_never_seen_is_accepted_and_dropped(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        felix = world.peer.add_actor("felix")
        world.peer.forget(felix.ap_id)  # Mastodon sends Delete{Person} to every server it knows, after the fact
        response = await world.peer.deliver(world.city, world.peer.adopt("mastodon/delete_actor.json"))
        assert response.status_code == 202
        await world.fed.drain()
        assert await _count(world.city, Actor.id, Actor.ap_id == felix.ap_id) == 0


# -------------------------------------------------------------------------------------------- Block


async def test_mastodon_block_ends_follows_both_ways(tmp_path: Path) -> None:
    async with _world(tmp_path, "mastodon", "mastodon.test") as world:
        felix = world.peer.add_actor("felix")
        mapping = {"https://mamot.fr/users/retiolus": world.alice}
        await _deliver(world, world.peer.adopt("mastodon/follow.json", mapping))
        assert await _count(world.city, Follow.id) == 1
        block = world.peer.adopt("mastodon/block.json", mapping)
        await _deliver(world, block)
        await _assert_applied(world.city, block)
        assert await _count(world.city, Follow.id) == 0
        async with world.city.site.sessions() as session:
            row = (await session.scalars(select(Block))).one()
            blocker = await session.get(Actor, row.actor_id)
        assert blocker is not None and blocker.ap_id == felix.ap_id and row.ap_id == block["id"]
