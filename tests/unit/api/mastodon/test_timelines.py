"""Timelines: home, public, tag, list, bookmarks, favourites; chronological, paged as Mastodon, private."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from fedserver.db import utcnow
from fedserver.local.models.actors import Actor
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import Status
from tests.cities import City, start_city
from tests.unit.api.mastodon.social import (Reader, block, block_domain, bookmark, boost, follow, like, mute)

HOME, PUBLIC = "/api/v1/timelines/home", "/api/v1/timelines/public"


async def _people(city: City, *names: str) -> None:
    for name in names:
        await city.create_account(name)


async def _remote_post(city: City, text: str, *, domain: str = "solingen.test", username: str = "dora") -> Status:
    async with city.site.sessions() as session, session.begin():
        actor = Actor(ap_id=f"https://{domain}/users/{username}", kind="Person", username=username,
                      username_key=username, domain=domain, inbox_url=f"https://{domain}/users/{username}/inbox")
        session.add(actor)
        await session.flush()
        status = Status(ap_id=f"https://{domain}/statuses/{text}", author_id=actor.id, is_local=False,
                        content_html=f"<p>{text}</p>", visibility="public", published_at=utcnow())
        status.thread_ap_id = status.ap_id
        session.add(status)
    return status


def _query(link: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(link).query)


async def test_home_lists_own_and_followed_posts_newest_first(moers: City) -> None:
    await _people(moers, "alice", "bob", "carla")
    await follow(moers, "alice", "bob")
    first = await moers.post("alice", "Guten Morgen")
    second = await moers.post("bob", "Hallo Moers")
    await moers.post("carla", "Nicht gefolgt")
    alice = await Reader.of(moers, "alice")
    assert await alice.ids(HOME) == [str(second.id), str(first.id)]


async def test_home_keeps_followers_only_and_direct_posts_inside_their_audience(moers: City) -> None:
    await _people(moers, "alice", "bob", "carla")
    await follow(moers, "alice", "carla")
    await follow(moers, "bob", "carla")
    private = await moers.post("carla", "Nur für Follower", visibility="private")
    direct = await moers.post("carla", "@alice psst", visibility="direct")
    alice, bob = await Reader.of(moers, "alice"), await Reader.of(moers, "bob")
    assert await alice.ids(HOME) == [str(direct.id), str(private.id)]
    assert await bob.ids(HOME) == [str(private.id)]  # a follower, but not addressed by the direct post
    await _people(moers, "dieter")
    dieter = await Reader.of(moers, "dieter")
    assert await dieter.ids(HOME) == []


async def test_home_leaves_out_blocked_muted_and_domain_blocked_accounts(moers: City) -> None:
    await _people(moers, "alice", "bob", "carla")
    await follow(moers, "alice", "bob")
    await follow(moers, "alice", "carla")
    kept = await moers.post("bob", "Bleibt")
    await moers.post("carla", "Stumm")
    await mute(moers, "alice", "carla")
    alice = await Reader.of(moers, "alice")
    assert await alice.ids(HOME) == [str(kept.id)]
    await block(moers, "alice", "bob")
    assert await alice.ids(HOME) == []


async def test_home_shows_boosts_unless_reblogs_are_hidden_or_the_original_is_muted(moers: City) -> None:
    await _people(moers, "alice", "bob", "carla", "dieter")
    await follow(moers, "alice", "bob")
    await follow(moers, "alice", "dieter", show_reblogs=False)
    original = await moers.post("carla", "Boost mich")
    by_bob = await boost(moers, "bob", original)
    await boost(moers, "dieter", original)
    alice = await Reader.of(moers, "alice")
    page = (await alice.get(HOME)).json()
    assert [item["id"] for item in page] == [str(by_bob.id)]
    assert page[0]["reblog"]["id"] == str(original.id)
    await mute(moers, "alice", "carla")
    assert await alice.ids(HOME) == []


async def test_home_leaves_out_replies_to_people_the_reader_does_not_follow(moers: City) -> None:
    await _people(moers, "alice", "bob", "carla")
    await follow(moers, "alice", "bob")
    to_carla = await moers.post("carla", "Frage")
    to_alice = await moers.post("alice", "Meine Frage")
    await moers.post("bob", "Antwort an Carla", in_reply_to=to_carla)
    answer = await moers.post("bob", "Antwort an Alice", in_reply_to=to_alice)
    alice = await Reader.of(moers, "alice")
    assert await alice.ids(HOME) == [str(answer.id), str(to_alice.id)]


async def test_home_pages_with_max_since_and_min_id_and_links(moers: City) -> None:
    await _people(moers, "alice")
    posts = [await moers.post("alice", f"Post {number}") for number in range(5)]
    ids = [str(post.id) for post in reversed(posts)]  # newest first
    alice = await Reader.of(moers, "alice")
    response = await alice.get(HOME, limit=2)
    assert [item["id"] for item in response.json()] == ids[:2]
    assert _query(response.links["next"]["url"])["max_id"] == [ids[1]]
    assert _query(response.links["next"]["url"])["limit"] == ["2"]
    assert _query(response.links["prev"]["url"])["min_id"] == [ids[0]]
    assert await alice.ids(HOME, limit=2, max_id=ids[1]) == ids[2:4]
    assert await alice.ids(HOME, since_id=ids[3]) == ids[:3]
    assert await alice.ids(HOME, limit=2, since_id=ids[4]) == ids[:2]  # since_id: the newest ones
    assert await alice.ids(HOME, limit=2, min_id=ids[4]) == ids[2:4]  # min_id: just above it
    assert await alice.ids(HOME, min_id=ids[0]) == []
    empty = await alice.get(HOME, max_id=ids[4])
    assert empty.json() == [] and "link" not in empty.headers


async def test_home_needs_a_user_token_with_read_statuses(moers: City) -> None:
    await _people(moers, "alice")
    assert (await moers.client.get(HOME)).status_code == 401
    writer = await Reader.of(moers, "alice", scopes="write")
    assert (await writer.get(HOME)).status_code == 403
    narrow = await Reader.of(moers, "alice", scopes="read:statuses")
    assert (await narrow.get(HOME)).status_code == 200
    assert (await narrow.get(HOME, max_id="abc")).status_code == 400


async def test_public_timeline_is_public_posts_only_for_anyone(moers: City) -> None:
    await _people(moers, "alice", "bob")
    await follow(moers, "bob", "alice")
    public = await moers.post("alice", "Öffentlich")
    await moers.post("alice", "Ungelistet", visibility="unlisted")
    await moers.post("alice", "Follower", visibility="private")
    await moers.post("alice", "@bob direkt", visibility="direct")
    await moers.post("bob", "Antwort", in_reply_to=public)
    thread = await moers.post("alice", "Fortsetzung", in_reply_to=public)
    await boost(moers, "bob", public)
    expected = [str(thread.id), str(public.id)]
    assert [item["id"] for item in (await moers.client.get(PUBLIC)).json()] == expected
    bob = await Reader.of(moers, "bob")
    assert await bob.ids(PUBLIC) == expected


async def test_public_timeline_local_remote_and_only_media(moers: City) -> None:
    await _people(moers, "alice", "bob")
    here = await moers.post("alice", "Aus Moers")
    remote = await _remote_post(moers, "aus-solingen")
    pictured = await moers.post("alice", "Mit Bild")
    async with moers.site.sessions() as session, session.begin():
        session.add(MediaAttachment(owner_id=pictured.author_id, status_id=pictured.id, file_path="x.png"))
    anyone = moers.client
    assert [i["id"] for i in (await anyone.get(PUBLIC, params={"local": "true"})).json()] == [
        str(pictured.id), str(here.id)]
    assert [i["id"] for i in (await anyone.get(PUBLIC, params={"remote": "true"})).json()] == [str(remote.id)]
    assert [i["id"] for i in (await anyone.get(PUBLIC, params={"only_media": "1"})).json()] == [str(pictured.id)]
    bob = await Reader.of(moers, "bob")
    await block_domain(moers, "bob", "solingen.test")
    assert str(remote.id) not in await bob.ids(PUBLIC)
    await mute(moers, "bob", "alice")
    assert await bob.ids(PUBLIC) == []


async def test_public_timeline_leaves_out_blocked_accounts(moers: City) -> None:
    await _people(moers, "alice", "bob")
    await moers.post("alice", "Hallo")
    await block(moers, "alice", "bob")  # alice blocks bob: bob no longer sees her posts
    bob = await Reader.of(moers, "bob")
    assert await bob.ids(PUBLIC) == []


async def test_tag_timeline_any_all_none_and_privacy(moers: City) -> None:
    await _people(moers, "alice", "bob")
    both = await moers.post("alice", "#Moers #Kirmes")
    moers_only = await moers.post("alice", "#moers allein")
    kirmes = await moers.post("alice", "#Kirmes allein")
    await moers.post("alice", "#Moers nur Follower", visibility="private")
    await moers.post("alice", "#Moers @bob direkt", visibility="direct")
    await moers.post("alice", "#Moers ungelistet", visibility="unlisted")
    bob = await Reader.of(moers, "bob")
    await follow(moers, "bob", "alice")
    tag = "/api/v1/timelines/tag/Moers"
    assert await bob.ids(tag) == [str(moers_only.id), str(both.id)]
    assert [i["id"] for i in (await moers.client.get(tag)).json()] == [str(moers_only.id), str(both.id)]
    assert await bob.ids(tag, **{"any[]": "kirmes"}) == [str(kirmes.id), str(moers_only.id), str(both.id)]
    assert await bob.ids(tag, **{"all[]": "kirmes"}) == [str(both.id)]
    assert await bob.ids(tag, **{"none[]": "kirmes"}) == [str(moers_only.id)]
    assert await bob.ids("/api/v1/timelines/tag/unbekannt") == []


async def test_list_timeline_shows_followed_members_only(moers: City) -> None:
    await _people(moers, "alice", "bob", "carla")
    await follow(moers, "alice", "bob")
    await follow(moers, "alice", "carla")
    alice = await Reader.of(moers, "alice")
    list_id = (await alice.post("/api/v1/lists", title="Nachbarn")).json()["id"]
    assert (await alice.post(f"/api/v1/lists/{list_id}/accounts", account_ids=[
        str((await _actor_id(moers, "bob")))])).status_code == 200
    from_bob = await moers.post("bob", "Nachbar")
    await moers.post("carla", "Keine Nachbarin")
    private = await moers.post("bob", "Privat", visibility="private")
    assert await alice.ids(f"/api/v1/timelines/list/{list_id}") == [str(private.id), str(from_bob.id)]
    await _people(moers, "dieter")
    dieter = await Reader.of(moers, "dieter")
    assert (await dieter.get(f"/api/v1/timelines/list/{list_id}")).status_code == 404


async def test_exclusive_list_members_leave_home(moers: City) -> None:
    await _people(moers, "alice", "bob")
    await follow(moers, "alice", "bob")
    await moers.post("bob", "Nur in der Liste")
    alice = await Reader.of(moers, "alice")
    list_id = (await alice.post("/api/v1/lists", title="Laut", exclusive=True)).json()["id"]
    await alice.post(f"/api/v1/lists/{list_id}/accounts", account_ids=[str(await _actor_id(moers, "bob"))])
    assert await alice.ids(HOME) == []
    assert len(await alice.ids(f"/api/v1/timelines/list/{list_id}")) == 1


async def _actor_id(city: City, username: str) -> int:
    from tests.unit.api.mastodon.social import actor_of
    return (await actor_of(city, username)).id


async def test_bookmarks_and_favourites_page_by_their_own_ids(moers: City) -> None:
    await _people(moers, "alice", "bob")
    older = await moers.post("bob", "Zuerst geschrieben")
    newer = await moers.post("bob", "Danach geschrieben")
    await bookmark(moers, "alice", newer)
    await bookmark(moers, "alice", older)  # bookmarked last: listed first
    await like(moers, "alice", newer)
    await like(moers, "alice", older)
    alice = await Reader.of(moers, "alice")
    for path in ("/api/v1/bookmarks", "/api/v1/favourites"):
        response = await alice.get(path, limit=1)
        assert [item["id"] for item in response.json()] == [str(older.id)]
        next_query = _query(response.links["next"]["url"])
        assert next_query["max_id"] != [str(older.id)]  # the row's id, not the status id
        assert await alice.ids(path, max_id=next_query["max_id"][0]) == [str(newer.id)]
    assert (await alice.get("/api/v1/bookmarks")).json()[0]["bookmarked"] is True
    assert (await alice.get("/api/v1/favourites")).json()[0]["favourited"] is True


async def test_bookmarks_drop_posts_the_reader_may_no_longer_see(moers: City) -> None:
    await _people(moers, "alice", "bob")
    await follow(moers, "alice", "bob")
    private = await moers.post("bob", "Nur Follower", visibility="private")
    await bookmark(moers, "alice", private)
    alice = await Reader.of(moers, "alice")
    assert await alice.ids("/api/v1/bookmarks") == [str(private.id)]
    await block(moers, "bob", "alice")
    assert await alice.ids("/api/v1/bookmarks") == []


@pytest.mark.postgres
async def test_timelines_and_conversations_on_postgresql(tmp_path: Path, fresh_postgres_url: str) -> None:
    async with start_city(tmp_path / "moers", "moers.test", database_url=fresh_postgres_url) as city:
        await _people(city, "alice", "bob", "carla")
        await follow(city, "alice", "bob")
        post = await city.post("bob", "#Moers Hallo", visibility="private")
        original = await city.post("carla", "Boost mich")
        boosted = await boost(city, "bob", original)
        direct = await city.post("bob", "@alice psst", visibility="direct")
        alice = await Reader.of(city, "alice")
        assert await alice.ids(HOME) == [str(direct.id), str(boosted.id), str(post.id)]
        assert await alice.ids(HOME, min_id=str(post.id), limit=1) == [str(boosted.id)]
        list_id = (await alice.post("/api/v1/lists", title="Bob")).json()["id"]
        await alice.post(f"/api/v1/lists/{list_id}/accounts", account_ids=[str(await _actor_id(city, "bob"))])
        assert await alice.ids(f"/api/v1/timelines/list/{list_id}") == [str(direct.id), str(boosted.id), str(post.id)]
        assert await alice.ids(PUBLIC) == [str(original.id)]
        assert await alice.ids("/api/v1/conversations") == [str(direct.id)]
        assert (await alice.post(f"/api/v1/conversations/{direct.id}/read")).json()["unread"] is False
        assert [n["type"] for n in (await alice.get("/api/v1/notifications")).json()] == ["mention"]
        await alice.post("/api/v2/filters", title="x", context=["home"], keywords_attributes=[{"keyword": "hallo"}])
        assert [len(item["filtered"]) for item in (await alice.get(HOME)).json()] == [0, 0, 1]


async def test_home_pages_across_old_posts_exactly(moers: City) -> None:
    """The page query reads widening time windows; pages must not depend on where those windows fall."""
    from datetime import timedelta

    from fedserver.local import accounts, statuses

    await _people(moers, "alice", "bob")
    await follow(moers, "alice", "bob")
    ages = [timedelta(days=400), timedelta(days=300), timedelta(days=20), timedelta(days=2), timedelta(minutes=30)]
    ids = []
    async with moers.site.sessions() as session, session.begin():
        bob = (await accounts.find_by_username(session, "bob")).actor
        for age in ages:  # oldest first
            post = await statuses.create(session, moers.site.urls, bob, f"vor {age}", now=utcnow() - age)
            ids.append(str(post.id))
    ids.reverse()  # newest first
    alice = await Reader.of(moers, "alice")
    assert await alice.ids(HOME) == ids
    assert await alice.ids(HOME, limit=2) == ids[:2]
    assert await alice.ids(HOME, limit=2, max_id=ids[1]) == ids[2:4]
    assert await alice.ids(HOME, limit=2, max_id=ids[3]) == ids[4:]
    assert await alice.ids(HOME, limit=2, min_id=ids[4]) == ids[2:4]
    assert await alice.ids(HOME, limit=2, since_id=ids[4]) == ids[:2]
    assert await alice.ids(HOME, since_id=ids[2]) == ids[:2]


async def test_home_stays_full_when_its_newest_posts_are_hidden_replies(moers: City) -> None:
    """The first page query reads only the newest posts of the followed accounts; when the feed's rules
    leave out most of them, the page is still filled from older posts, exactly."""
    await _people(moers, "alice", "bob", "carla")
    await follow(moers, "alice", "bob")
    shown = [str((await moers.post("bob", f"Beitrag {n}")).id) for n in range(5)]
    to_carla = await moers.post("carla", "Frage")
    middle = str((await moers.post("bob", "Zwischendurch")).id)
    for n in range(8):  # replies to someone alice does not follow: not in her home feed
        await moers.post("bob", f"Antwort {n}", in_reply_to=to_carla)
    newest_first = [middle, *reversed(shown)]
    alice = await Reader.of(moers, "alice")
    assert await alice.ids(HOME, limit=3) == newest_first[:3]
    assert await alice.ids(HOME, limit=3, max_id=newest_first[2]) == newest_first[3:]
    assert await alice.ids(HOME, limit=3, since_id=newest_first[4]) == newest_first[:3]
    assert await alice.ids(HOME, limit=10, since_id=newest_first[2]) == newest_first[:2]
