"""ActivityPub GET documents: actors, the chronological outbox, statuses, collections, negotiation."""
from __future__ import annotations

import pytest

from fedserver.activitypub.keys import load_public_key
from fedserver.local.models.actors import Actor
from fedserver.local.models.interactions import ACCEPTED, Follow
from tests.cities import City

AP = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


async def test_actor_document_has_what_mastodon_serves(moers: City) -> None:
    await moers.create_account("alice", display_name="Alice", summary_html="<p>Moerserin</p>")
    response = await moers.client.get("/users/alice", headers=AP)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/activity+json")
    assert "Accept" in response.headers["vary"]
    actor = response.json()
    assert actor["@context"][:2] == ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
    assert actor["id"] == "https://moers.test/users/alice"
    assert actor["type"] == "Person"
    assert actor["preferredUsername"] == "alice"
    assert actor["name"] == "Alice"
    assert actor["summary"] == "<p>Moerserin</p>"
    assert actor["url"] == "https://moers.test/@alice"
    for key, path in [("inbox", "/inbox"), ("outbox", "/outbox"), ("followers", "/followers"),
                      ("following", "/following"), ("featured", "/collections/featured")]:
        assert actor[key] == f"https://moers.test/users/alice{path}"
    assert actor["endpoints"]["sharedInbox"] == "https://moers.test/inbox"
    assert actor["publicKey"]["id"] == "https://moers.test/users/alice#main-key"
    assert actor["publicKey"]["owner"] == actor["id"]
    assert load_public_key(actor["publicKey"]["publicKeyPem"]).key_size == 2048
    assert actor["manuallyApprovesFollowers"] is False
    assert actor["discoverable"] is True
    assert actor["published"].endswith("Z")


@pytest.mark.parametrize("kind", ["business", "club", "city"])
async def test_organisations_are_organization_actors(moers: City, kind: str) -> None:
    await moers.create_account("verein", kind=kind)
    assert (await moers.client.get("/users/verein", headers=AP)).json()["type"] == "Organization"


async def test_actor_served_for_ld_json_and_plain_json(moers: City) -> None:
    await moers.create_account("alice")
    for headers in (LD, {"Accept": "application/json"}):
        response = await moers.client.get("/users/alice", headers=headers)
        assert response.status_code == 200
        assert response.json()["id"] == "https://moers.test/users/alice"


async def test_browser_is_sent_to_profile_page(moers: City) -> None:
    await moers.create_account("alice")
    response = await moers.client.get("/users/alice", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 302
    assert response.headers["location"] == "https://moers.test/@alice"
    page = await moers.client.get("/@alice")
    assert page.status_code == 200 and "@alice@moers.test" in page.text


async def test_unsupported_accept_is_406(moers: City) -> None:
    await moers.create_account("alice")
    response = await moers.client.get("/users/alice", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "activity+json" in response.json()["error"]


async def test_unknown_user_is_404(moers: City) -> None:
    for path in ("/users/nobody", "/users/nobody/outbox", "/users/nobody/followers", "/users/nobody/statuses/1"):
        response = await moers.client.get(path, headers=AP)
        assert response.status_code == 404, path
        assert "nobody" in response.json()["error"]


async def test_instance_actor_is_an_application(moers: City) -> None:
    actor = (await moers.client.get("/actor", headers=AP)).json()
    assert actor["type"] == "Application"
    assert actor["id"] == "https://moers.test/actor"
    assert actor["preferredUsername"] == "moers.test"
    assert actor["publicKey"]["owner"] == "https://moers.test/actor"


async def test_outbox_lists_public_and_unlisted_creates_newest_first(moers: City) -> None:
    await moers.create_account("alice")
    first = await moers.post("alice", "Erster Beitrag #Moers")
    second = await moers.post("alice", "Still und leise", visibility="unlisted")
    await moers.post("alice", "Nur für Folgende", visibility="private")
    await moers.post("alice", "Geheim", visibility="direct")
    collection = (await moers.client.get("/users/alice/outbox", headers=AP)).json()
    assert collection["type"] == "OrderedCollection"
    assert collection["totalItems"] == 2
    page = (await moers.client.get(collection["first"], headers=AP)).json()
    assert page["type"] == "OrderedCollectionPage"
    assert page["partOf"] == "https://moers.test/users/alice/outbox"
    items = page["orderedItems"]
    assert [item["object"]["id"] for item in items] == [second.ap_id, first.ap_id]
    assert all(item["type"] == "Create" and "@context" not in item for item in items)
    assert items[1]["to"] == [PUBLIC]
    assert items[0]["cc"][0] == PUBLIC
    assert "Nur für Folgende" not in str(page) and "Geheim" not in str(page)


async def test_outbox_pages_strictly_by_id(moers: City) -> None:
    await moers.create_account("alice")
    posted = [await moers.post("alice", f"Beitrag {number}") for number in range(45)]
    seen: list[str] = []
    pages = []
    url = "/users/alice/outbox?page=true"
    for _ in range(10):
        page = (await moers.client.get(url, headers=AP)).json()
        pages.append(page)
        seen += [item["object"]["id"] for item in page["orderedItems"]]
        if "next" not in page:
            break
        url = page["next"]
    assert [len(page["orderedItems"]) for page in pages] == [20, 20, 5]
    assert seen == [status.ap_id for status in reversed(posted)]
    # prev of the second page is exactly the first page again (min_id paging).
    newer = (await moers.client.get(pages[1]["prev"], headers=AP)).json()
    assert newer["orderedItems"] == pages[0]["orderedItems"]


@pytest.mark.parametrize("query", ["max_id=abc", "min_id=-1", "max_id=1e9", "max_id=99999999999999999999999"])
async def test_outbox_bad_cursor_is_400(moers: City, query: str) -> None:
    await moers.create_account("alice")
    response = await moers.client.get(f"/users/alice/outbox?page=true&{query}", headers=AP)
    assert response.status_code == 400
    assert "id" in response.json()["error"]


async def test_public_status_is_dereferenceable(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    status = await moers.post("alice", "Hallo @bob, schau mal #Schlosspark https://moers.de")
    note = (await moers.client.get(status.ap_id, headers=AP)).json()
    assert note["id"] == status.ap_id
    assert note["type"] == "Note"
    assert note["attributedTo"] == "https://moers.test/users/alice"
    assert note["url"] == status.url
    assert note["to"] == [PUBLIC]
    assert "https://moers.test/users/bob" in note["cc"]
    tags = {(tag["type"], tag["name"]) for tag in note["tag"]}
    assert tags == {("Mention", "@bob@moers.test"), ("Hashtag", "#schlosspark")}
    assert '<a href="https://moers.de"' in note["content"]
    create = (await moers.client.get(f"{status.ap_id}/activity", headers=AP)).json()
    assert create["type"] == "Create" and create["object"]["id"] == status.ap_id


@pytest.mark.parametrize("visibility", ["private", "direct"])
async def test_private_status_is_404_to_anonymous_fetch(moers: City, visibility: str) -> None:
    await moers.create_account("alice")
    status = await moers.post("alice", "Nicht für alle", visibility=visibility)
    for url in (status.ap_id, f"{status.ap_id}/activity"):
        response = await moers.client.get(url, headers=AP)
        assert response.status_code == 404
        assert "Nicht für alle" not in response.text
    page = await moers.client.get(f"/@alice/{status.id}")
    assert page.status_code == 404 and "Nicht für alle" not in page.text


async def test_status_of_another_author_path_is_404(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    status = await moers.post("alice", "Meins")
    response = await moers.client.get(f"/users/bob/statuses/{status.id}", headers=AP)
    assert response.status_code == 404


async def test_followers_collection_counts_and_pages(moers: City) -> None:
    alice = await moers.create_account("alice")
    follower_ids = [(await moers.create_account(f"fan{number}")).actor.id for number in range(45)]
    async with moers.site.sessions() as session, session.begin():
        session.add_all(Follow(follower_id=fid, target_id=alice.actor.id, state=ACCEPTED) for fid in follower_ids)
    collection = (await moers.client.get("/users/alice/followers", headers=AP)).json()
    assert collection["totalItems"] == 45
    first = (await moers.client.get(collection["first"], headers=AP)).json()
    assert len(first["orderedItems"]) == 40 and first["orderedItems"][0] == "https://moers.test/users/fan44"
    second = (await moers.client.get(first["next"], headers=AP)).json()
    assert len(second["orderedItems"]) == 5 and "next" not in second
    following = (await moers.client.get("/users/fan0/following", headers=AP)).json()
    assert following["totalItems"] == 1
    bad = await moers.client.get("/users/alice/followers?page=zero", headers=AP)
    assert bad.status_code == 400


async def test_deleted_status_is_gone_from_outbox_and_database(moers: City) -> None:
    from sqlalchemy import func, select

    from fedserver.db import utcnow
    from fedserver.local import statuses
    from fedserver.local.models.statuses import Status
    from fedserver.outbox.published import PublishedActivity

    await moers.create_account("alice")
    status = await moers.post("alice", "Bald weg #Moers")
    async with moers.site.sessions() as session, session.begin():
        row, author = await statuses.find_local(session, status.id)
        await statuses.delete(session, moers.site.urls, row, author, now=utcnow())
    assert (await moers.client.get(status.ap_id, headers=AP)).status_code == 404
    outbox = (await moers.client.get("/users/alice/outbox?page=true", headers=AP)).json()
    assert outbox["orderedItems"] == []
    async with moers.site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Status)) == 0
        remaining = (await session.scalars(select(PublishedActivity.type))).all()
        assert remaining == ["Delete"]
        assert "Bald weg" not in (await session.scalars(select(PublishedActivity.body))).one()


async def test_remote_actor_rows_are_not_served_as_local(moers: City) -> None:
    async with moers.site.sessions() as session, session.begin():
        session.add(Actor(ap_id="https://solingen.test/users/carla", kind="Person", username="carla",
                          username_key="carla", domain="solingen.test", inbox_url="https://solingen.test/inbox"))
    assert (await moers.client.get("/users/carla", headers=AP)).status_code == 404


@pytest.mark.parametrize("path", [
    "/users/alice/statuses/99999999999999999999999", "/users/alice/statuses/99999999999999999999999/activity",
    "/users/alice/activities/99999999999999999999999", "/@alice/99999999999999999999999",
    "/users/alice/followers?page=99999999999999999999", "/users/%00", "/tags/%F0%9F%98%80",
    "/users/alice/outbox?page=true&limit=abc", "/.well-known/webfinger?resource=acct:%00@moers.test",
])
async def test_client_controlled_input_never_causes_500(moers: City, path: str) -> None:
    await moers.create_account("alice")
    for headers in (AP, {"Accept": "text/html"}):
        response = await moers.client.get(path, headers=headers)
        assert response.status_code < 500, (path, response.text)


async def test_cached_documents_follow_every_committed_write(moers: City) -> None:
    from fedserver.db import utcnow
    from fedserver.local import statuses

    await moers.create_account("alice")
    first = await moers.post("alice", "Eins")
    before = (await moers.client.get("/users/alice/outbox?page=true", headers=AP)).json()
    assert (await moers.client.get(first.ap_id, headers=AP)).status_code == 200
    second = await moers.post("alice", "Zwei")
    after = (await moers.client.get("/users/alice/outbox?page=true", headers=AP)).json()
    assert len(before["orderedItems"]) == 1 and len(after["orderedItems"]) == 2
    async with moers.site.sessions() as session, session.begin():
        row, author = await statuses.find_local(session, first.id)
        await statuses.delete(session, moers.site.urls, row, author, now=utcnow())
    assert (await moers.client.get(first.ap_id, headers=AP)).status_code == 404
    latest = (await moers.client.get("/users/alice/outbox?page=true", headers=AP)).json()
    assert [item["object"]["id"] for item in latest["orderedItems"]] == [second.ap_id]


async def test_a_core_statement_that_writes_empties_the_cache_and_a_read_does_not(moers: City) -> None:
    """Writes made without the ORM (the inbox's fast path, bulk updates) change documents too."""
    from sqlalchemy import select, update

    from fedserver.local.models.actors import Actor

    await moers.create_account("alice")
    assert (await moers.client.get("/users/alice", headers=AP)).json().get("name") != "Alice Kern"
    async with moers.site.sessions() as session:
        await session.scalar(select(Actor.id).where(Actor.username == "alice"))
        await session.commit()  # a read: the cached document stays
    async with moers.site.sessions() as session, session.begin():
        await session.execute(update(Actor).where(Actor.username == "alice").values(display_name="Alice Kern"))
    assert (await moers.client.get("/users/alice", headers=AP)).json()["name"] == "Alice Kern"


async def test_other_spelling_of_a_username_redirects_to_the_canonical_id(moers: City) -> None:
    await moers.create_account("Alice")
    response = await moers.client.get("/users/alice/outbox?page=true", headers=AP)
    assert response.status_code == 301
    assert response.headers["location"] == "/users/Alice/outbox?page=true"
    actor = await moers.client.get("/users/ALICE", headers=AP, follow_redirects=True)
    assert actor.json()["id"] == str(actor.url) == "https://moers.test/users/Alice"
