"""Filters v2: CRUD, keywords and statuses, and applying them where they are named (warn and hide)."""
from __future__ import annotations

from tests.cities import City
from tests.unit.api.mastodon.social import Reader, boost, follow

FILTERS = "/api/v2/filters"
HOME = "/api/v1/timelines/home"


async def _reader(city: City) -> Reader:
    for name in ("alice", "bob"):
        await city.create_account(name)
    await follow(city, "alice", "bob")
    return await Reader.of(city, "alice")


async def test_filter_crud_in_mastodons_shape(moers: City) -> None:
    alice = await _reader(moers)
    created = (await alice.post(FILTERS, title="Fußball", context=["home", "public"], filter_action="warn",
                                keywords_attributes=[{"keyword": "Tor", "whole_word": True},
                                                     {"keyword": "elfmeter", "whole_word": False}])).json()
    assert set(created) == {"id", "title", "context", "expires_at", "filter_action", "keywords", "statuses"}
    assert created["context"] == ["home", "public"] and created["expires_at"] is None
    assert [(k["keyword"], k["whole_word"]) for k in created["keywords"]] == [("Tor", True), ("elfmeter", False)]
    assert (await alice.get(FILTERS)).json() == [created]
    assert (await alice.get(f"{FILTERS}/{created['id']}")).json() == created
    first_keyword = created["keywords"][0]["id"]
    changed = (await alice.put(f"{FILTERS}/{created['id']}", title="Sport", filter_action="hide", expires_in=3600,
                               keywords_attributes=[{"id": first_keyword, "_destroy": True},
                                                    {"keyword": "Abseits"}])).json()
    assert changed["title"] == "Sport" and changed["filter_action"] == "hide" and changed["expires_at"]
    assert [k["keyword"] for k in changed["keywords"]] == ["elfmeter", "Abseits"]
    assert (await alice.delete(f"{FILTERS}/{created['id']}")).json() == {}
    assert (await alice.get(f"{FILTERS}/{created['id']}")).status_code == 404


async def test_filter_input_is_checked_and_private(moers: City) -> None:
    alice = await _reader(moers)
    assert (await alice.post(FILTERS, title="", context=["home"])).status_code == 422
    assert (await alice.post(FILTERS, title="x", context=["nowhere"])).status_code == 422
    assert (await alice.post(FILTERS, title="x", context=[])).status_code == 422
    assert (await alice.post(FILTERS, title="x", context=["home"], filter_action="explode")).status_code == 422
    created = (await alice.post(FILTERS, title="x", context=["home"])).json()
    bob = await Reader.of(moers, "bob")
    assert (await bob.get(f"{FILTERS}/{created['id']}")).status_code == 404
    assert (await bob.get(FILTERS)).json() == []
    reader = await Reader.of(moers, "alice", scopes="read:filters")
    assert (await reader.post(FILTERS, title="y", context=["home"])).status_code == 403


async def test_filter_accepts_rails_form_fields(moers: City) -> None:
    alice = await _reader(moers)
    form = [("title", "Form"), ("context[]", "home"), ("context[]", "thread"),
            ("keywords_attributes[][keyword]", "eins"), ("keywords_attributes[][whole_word]", "false"),
            ("keywords_attributes[][keyword]", "zwei")]
    body = "&".join(f"{key}={value}" for key, value in form)
    response = await moers.client.post(FILTERS, content=body, headers={
        **alice.headers, "Content-Type": "application/x-www-form-urlencoded"})
    created = response.json()
    assert created["context"] == ["home", "thread"]
    assert [(k["keyword"], k["whole_word"]) for k in created["keywords"]] == [("eins", False), ("zwei", True)]


async def test_keywords_and_statuses_sub_resources(moers: City) -> None:
    alice = await _reader(moers)
    filter_id = (await alice.post(FILTERS, title="x", context=["home"])).json()["id"]
    keyword = (await alice.post(f"{FILTERS}/{filter_id}/keywords", keyword="Baustelle", whole_word=False)).json()
    assert keyword == {"id": keyword["id"], "keyword": "Baustelle", "whole_word": False}
    assert (await alice.get(f"{FILTERS}/{filter_id}/keywords")).json() == [keyword]
    for path in (f"/api/v2/filters/keywords/{keyword['id']}", f"/api/v2/filter_keywords/{keyword['id']}"):
        assert (await alice.get(path)).json() == keyword
    renamed = (await alice.put(f"/api/v2/filters/keywords/{keyword['id']}", keyword="Stau")).json()
    assert renamed["keyword"] == "Stau" and renamed["whole_word"] is False
    assert (await alice.delete(f"/api/v2/filter_keywords/{keyword['id']}")).json() == {}
    assert (await alice.get(f"{FILTERS}/{filter_id}/keywords")).json() == []
    post = await moers.post("bob", "Irgendwas")
    chosen = (await alice.post(f"{FILTERS}/{filter_id}/statuses", status_id=str(post.id))).json()
    assert chosen == {"id": chosen["id"], "status_id": str(post.id)}
    assert (await alice.post(f"{FILTERS}/{filter_id}/statuses", status_id=str(post.id))).status_code == 422
    assert (await alice.get(f"/api/v2/filter_statuses/{chosen['id']}")).json() == chosen
    assert (await alice.get(f"{FILTERS}/{filter_id}")).json()["statuses"] == [chosen]
    bob = await Reader.of(moers, "bob")
    assert (await bob.get(f"/api/v2/filters/statuses/{chosen['id']}")).status_code == 404
    assert (await alice.delete(f"/api/v2/filters/statuses/{chosen['id']}")).json() == {}
    assert (await alice.get(f"{FILTERS}/{filter_id}/statuses")).json() == []


async def test_filter_statuses_only_for_visible_posts(moers: City) -> None:
    alice = await _reader(moers)
    await moers.create_account("carla")
    secret = await moers.post("carla", "Nur Follower", visibility="private")
    filter_id = (await alice.post(FILTERS, title="x", context=["home"])).json()["id"]
    assert (await alice.post(f"{FILTERS}/{filter_id}/statuses", status_id=str(secret.id))).status_code == 404


async def test_warn_filter_marks_matching_posts_in_its_context(moers: City) -> None:
    alice = await _reader(moers)
    created = (await alice.post(FILTERS, title="Verkehr", context=["home"],
                                keywords_attributes=[{"keyword": "Stau"}])).json()
    match = await moers.post("bob", "Stau auf der A40")
    await moers.post("bob", "Staubsauger im Angebot")  # a whole word only
    page = (await alice.get(HOME)).json()
    assert [len(item["filtered"]) for item in page] == [0, 1]
    result = page[1]["filtered"][0]
    assert page[1]["id"] == str(match.id)
    assert result["keyword_matches"] == ["Stau"] and result["status_matches"] is None
    assert result["filter"]["id"] == created["id"] and "keywords" not in result["filter"]
    public = (await alice.get("/api/v1/timelines/public")).json()
    assert all(item["filtered"] == [] for item in public)  # the filter names home only


async def test_hide_filter_removes_posts_and_boosts_from_timelines(moers: City) -> None:
    alice = await _reader(moers)
    await moers.create_account("carla")
    await alice.post(FILTERS, title="Werbung", context=["home", "public"], filter_action="hide",
                     keywords_attributes=[{"keyword": "Rabatt"}])
    kept = await moers.post("bob", "Schönes Wetter")
    await moers.post("bob", "50% Rabatt heute")
    advert = await moers.post("carla", "Rabatt bei Carla")
    await boost(moers, "bob", advert)
    assert await alice.ids(HOME) == [str(kept.id)]
    assert str(advert.id) not in await alice.ids("/api/v1/timelines/public")
    response = await alice.get(HOME, limit=2)
    assert len(response.json()) == 0 and "next" in response.links  # paging follows the rows read


async def test_status_filter_and_expired_filter(moers: City) -> None:
    alice = await _reader(moers)
    post = await moers.post("bob", "Dieser eine Beitrag")
    filter_id = (await alice.post(FILTERS, title="Einer", context=["home"], filter_action="warn")).json()["id"]
    await alice.post(f"{FILTERS}/{filter_id}/statuses", status_id=str(post.id))
    filtered = (await alice.get(HOME)).json()[0]["filtered"]
    assert filtered[0]["status_matches"] == [str(post.id)] and filtered[0]["keyword_matches"] is None
    await alice.put(f"{FILTERS}/{filter_id}", expires_in=-1)
    assert (await alice.get(HOME)).json()[0]["filtered"] == []
