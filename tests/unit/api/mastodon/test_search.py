"""GET /api/v2/search: accounts, hashtags, full-text statuses under the visibility rule, and resolve."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from fedserver.db import utcnow
from fedserver.local import accounts, blocks, follows, search, statuses
from tests.api_clients import bearer, token_for
from tests.cities import City
from tests.federation.cities import federation


async def find(city: City, token: str | None, **params: Any) -> Any:
    return await city.client.get("/api/v2/search", params=params, headers=bearer(token) if token else {})


def ids(entities: list[dict[str, Any]]) -> list[str]:
    return [entity["id"] for entity in entities]


async def _follow(city: City, follower: str, target: str) -> None:
    async with city.site.sessions() as session, session.begin():
        one = await accounts.find_by_username(session, follower)
        other = await accounts.find_by_username(session, target)
        await follows.request(session, city.site.urls, one.actor, other.actor, now=utcnow())


async def test_accounts_by_handle_and_display_name_exact_match_first(moers: City) -> None:
    await moers.create_account("alice", display_name="Alice Adler")
    await moers.create_account("alicia", display_name="Alicia")
    bob = await moers.create_account("bob", display_name="Bürgermeister Bob")
    token = await token_for(moers, "alice")
    result = (await find(moers, token, q="alic")).json()
    assert [a["acct"] for a in result["accounts"]] == ["alice", "alicia"]
    assert [a["acct"] for a in (await find(moers, token, q="ALICIA")).json()["accounts"]] == ["alicia"]
    assert ids((await find(moers, token, q="bob", type="accounts")).json()["accounts"]) == [str(bob.actor_id)]
    assert ids((await find(moers, token, q="Bürgermeister")).json()["accounts"]) == [str(bob.actor_id)]
    assert ids((await find(moers, token, q="@bob@moers.test")).json()["accounts"]) == [str(bob.actor_id)]
    anonymous = (await find(moers, None, q="bob")).json()
    assert ids(anonymous["accounts"]) == [str(bob.actor_id)] and anonymous["statuses"] == []
    assert (await find(moers, token, q="moers.test")).json()["accounts"] == []  # the instance actor is nobody
    page = (await find(moers, token, q="ali", type="accounts", limit=1, offset=1)).json()
    assert [a["acct"] for a in page["accounts"]] == ["alicia"]


async def test_accounts_leave_out_blocks_and_follow_only_when_asked(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    await moers.create_account("bobby")
    await _follow(moers, "alice", "bob")
    async with moers.site.sessions() as session, session.begin():
        bobby = await accounts.find_by_username(session, "bobby")
        alice = await accounts.find_by_username(session, "alice")
        await blocks.block(session, moers.site.urls, bobby.actor, alice.actor, now=utcnow())
    token = await token_for(moers, "alice")
    assert [a["acct"] for a in (await find(moers, token, q="bob")).json()["accounts"]] == ["bob"]
    await moers.create_account("bobo")
    following = (await find(moers, token, q="bo", following="true")).json()["accounts"]
    assert [a["acct"] for a in following] == ["bob"]


async def test_hashtags_by_prefix_with_a_weeks_history(moers: City) -> None:
    await moers.create_account("alice")
    await moers.post("alice", "Heute #Stadtfest und #Stadtbibliothek")
    await moers.post("alice", "Noch einmal #stadtfest")
    token = await token_for(moers, "alice")
    tags = (await find(moers, token, q="#stadt", type="hashtags")).json()["hashtags"]
    assert [tag["name"] for tag in tags] == ["Stadtbibliothek", "Stadtfest"]
    assert tags[1]["url"] == "https://moers.test/tags/stadtfest" and tags[1]["following"] is False
    assert len(tags[1]["history"]) == 7 and tags[1]["history"][0]["uses"] == "2"
    assert tags[1]["history"][0]["accounts"] == "1" and tags[1]["history"][1]["uses"] == "0"
    assert isinstance(tags[1]["history"][0]["day"], str)
    exact_first = (await find(moers, token, q="stadtfest")).json()["hashtags"]
    assert exact_first[0]["name"] == "Stadtfest"
    assert "following" not in (await find(moers, None, q="stadtfest")).json()["hashtags"][0]


async def test_statuses_follow_the_visibility_rule(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob", is_indexable=True)
    await moers.create_account("carla")
    await moers.create_account("dora")  # not indexable: her public posts are hers to find
    await _follow(moers, "alice", "bob")
    public = await moers.post("bob", "Das Stadtfest beginnt um zehn")
    private = await moers.post("bob", "Stadtfest: wir treffen uns hinten", visibility="private")
    direct = await moers.post("bob", "@alice Stadtfest, nur für dich", visibility="direct")
    unlisted = await moers.post("bob", "Stadtfest leise", visibility="unlisted")
    hidden = await moers.post("dora", "Stadtfest ohne Suche")
    seen: dict[str, list[str]] = {}
    for name in ("alice", "carla", "dora"):
        response = await find(moers, await token_for(moers, name), q="stadtfest", type="statuses")
        assert response.status_code == 200
        seen[name] = ids(response.json()["statuses"])
    assert seen["alice"] == [str(direct.id), str(public.id)]  # newest first; mentioned in the direct one
    assert seen["carla"] == [str(public.id)]
    assert seen["dora"] == [str(hidden.id), str(public.id)]  # her own posts always
    bob_sees = ids((await find(moers, await token_for(moers, "bob"), q="Stadtfest")).json()["statuses"])
    assert bob_sees == [str(s.id) for s in (unlisted, direct, private, public)]
    assert (await find(moers, None, q="stadtfest", type="statuses")).json()["statuses"] == []


async def test_statuses_prefixes_all_words_filters_and_paging(moers: City) -> None:
    await moers.create_account("alice")
    first = await moers.post("alice", "Der Wochenmarkt am Neumarkt ist eröffnet")
    second = await moers.post("alice", "Wochenmarkt fällt aus, Grüße vom Königlichen Hof")
    await moers.post("alice", "Etwas ganz anderes")
    token = await token_for(moers, "alice")

    async def statuses_for(**params: Any) -> list[str]:
        return ids((await find(moers, token, type="statuses", **params)).json()["statuses"])

    assert await statuses_for(q="wochen") == [str(second.id), str(first.id)]
    assert await statuses_for(q="Wochenmarkt eröffnet") == [str(first.id)]
    assert await statuses_for(q="königlich") == [str(second.id)]
    assert await statuses_for(q="koniglichen") == [str(second.id)]  # diacritics do not matter
    assert await statuses_for(q="wochenmarkt", limit=1, offset=1) == [str(first.id)]
    assert await statuses_for(q="wochenmarkt", max_id=str(second.id)) == [str(first.id)]
    assert await statuses_for(q="wochenmarkt", min_id=str(first.id)) == [str(second.id)]
    assert await statuses_for(q='" OR * NEAR( "') == []  # FTS5 syntax in a query is only text
    assert await statuses_for(q="wochenmarkt", account_id="1") == []


async def test_edits_and_deletions_reach_the_index(moers: City) -> None:
    await moers.create_account("alice")
    status = await moers.post("alice", "Tippfehler im Rathaus")
    token = await token_for(moers, "alice")
    async with moers.site.sessions() as session, session.begin():
        alice = await accounts.find_by_username(session, "alice")
        await statuses.edit(session, moers.site.urls, status, alice.actor, "Sitzung im Rathaus", now=utcnow())
    assert (await find(moers, token, q="Tippfehler")).json()["statuses"] == []
    assert ids((await find(moers, token, q="Sitzung")).json()["statuses"]) == [str(status.id)]
    async with moers.site.sessions() as session, session.begin():
        alice = await accounts.find_by_username(session, "alice")
        await statuses.delete(session, moers.site.urls, status, alice.actor, now=utcnow())
        await search.purge_deleted(session)
    async with moers.site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(search.STATUS_SEARCH)) == 0
        await session.execute(text("CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, status_search, 'row')"))
        assert (await session.scalars(text("SELECT term FROM temp.words"))).all() == []  # no word left behind
    assert (await find(moers, token, q="Sitzung")).json()["statuses"] == []


@pytest.mark.parametrize(("params", "status", "error"), [
    ({}, 400, "param is missing or the value is empty: q"),
    ({"q": "  "}, 400, "param is missing or the value is empty: q"),
    ({"q": "x", "limit": "-1"}, 400, "Pagination values for `offset` and `limit` must be positive"),
    ({"q": "x", "type": "accounts", "offset": "-3"}, 400, "Pagination values"),
    ({"q": "x", "limit": "many"}, 400, "limit must be a whole number"),
    ({"q": "x", "type": "statuses", "max_id": "abc"}, 400, "max_id must be an id"),
])
async def test_bad_parameters(moers: City, params: dict[str, str], status: int, error: str) -> None:
    await moers.create_account("alice")
    response = await find(moers, await token_for(moers, "alice"), **params)
    assert response.status_code == status and error in response.json()["error"]


async def test_anonymous_callers_may_not_page_or_resolve_and_scopes_count(moers: City) -> None:
    await moers.create_account("alice")
    paged = await find(moers, None, q="alice", type="accounts", offset="1")
    assert paged.status_code == 401 and "pagination" in paged.json()["error"]
    resolving = await find(moers, None, q="bob@solingen.test", resolve="true")
    assert resolving.status_code == 401 and "resolve" in resolving.json()["error"]
    assert (await find(moers, await token_for(moers, "alice", "read:search"), q="alice")).status_code == 200
    assert (await find(moers, await token_for(moers, "alice", "write"), q="alice")).status_code == 403
    assert (await find(moers, await token_for(moers, "alice"), q="alice", type="people")).json() == {
        "accounts": [], "statuses": [], "hashtags": []}


async def test_resolve_finds_remote_accounts_and_posts(tmp_path: Path) -> None:
    async with federation(tmp_path, "moers.test", "solingen.test") as fed:
        moers, solingen = fed["moers.test"], fed["solingen.test"]
        await moers.create_account("alice")
        await solingen.create_account("bob", display_name="Bob aus Solingen")
        public = await solingen.post("bob", "Klingenstadt grüßt Moers")
        private = await solingen.post("bob", "Nur für Folgende", visibility="private")
        token = await token_for(moers, "alice")
        assert (await find(moers, token, q="bob@solingen.test")).json()["accounts"] == []  # unknown without resolve
        found = (await find(moers, token, q="@bob@solingen.test", resolve="true")).json()["accounts"]
        assert [a["acct"] for a in found] == ["bob@solingen.test"] and found[0]["display_name"] == "Bob aus Solingen"
        known = (await find(moers, token, q="bob@solingen")).json()["accounts"]  # now known: no lookup needed
        assert [a["acct"] for a in known] == ["bob@solingen.test"]
        by_url = (await find(moers, token, q=public.ap_id, resolve="true")).json()
        assert [s["uri"] for s in by_url["statuses"]] == [public.ap_id] and by_url["accounts"] == []
        assert "Klingenstadt" in by_url["statuses"][0]["content"]
        # Our /@user/<id> pages answer HTML only, so a page address is found once the post is known.
        again = (await find(moers, token, q=public.url, resolve="true")).json()["statuses"]
        assert ids(again) == ids(by_url["statuses"])  # stored once, found by its page as well as its id
        assert (await find(moers, token, q=private.ap_id, resolve="true")).json()["statuses"] == []
        actor = (await find(moers, token, q="https://solingen.test/users/bob", resolve="true")).json()
        assert [a["acct"] for a in actor["accounts"]] == ["bob@solingen.test"]
        nobody = await find(moers, token, q="@nobody@solingen.test", resolve="true")
        assert nobody.status_code == 200 and nobody.json()["accounts"] == []
        down = await find(moers, token, q="carla@krefeld.test", resolve="true")
        assert down.status_code == 200 and down.json()["accounts"] == []


async def test_a_post_found_by_its_address_is_still_subject_to_the_visibility_rule(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("carla")
    private = await moers.post("alice", "Nur für Folgende", visibility="private")
    for name, expected in (("carla", []), ("alice", [str(private.id)])):
        for address in (private.ap_id, private.url):
            found = await find(moers, await token_for(moers, name), q=address, resolve="true")
            assert ids(found.json()["statuses"]) == expected, (name, address)


@pytest.mark.postgres
async def test_full_text_search_on_postgresql_uses_the_index(tmp_path: Path, fresh_postgres_url: str) -> None:
    from tests.cities import start_city

    async with start_city(tmp_path / "moers", "moers.test", database_url=fresh_postgres_url) as moers:
        await moers.create_account("alice")
        await moers.create_account("carla")
        first = await moers.post("alice", "Der <b>Wochenmarkt</b> am Neumarkt")
        await moers.post("alice", "Wochenmarkt nur für Folgende", visibility="private")
        await moers.post("alice", "#Stadtfest heute")
        token = await token_for(moers, "alice")
        found = (await find(moers, token, q="wochen neumarkt", type="statuses")).json()["statuses"]
        assert ids(found) == [str(first.id)]
        assert ids((await find(moers, token, q="stadtfest", type="statuses")).json()["statuses"]) != []
        assert (await find(moers, await token_for(moers, "carla"), q="wochenmarkt")).json()["statuses"] == []
        async with moers.site.engine.connect() as connection:
            await connection.execute(text("SET enable_seqscan = off"))
            explain = f"EXPLAIN SELECT id FROM statuses WHERE {search.PG_DOCUMENT} @@ to_tsquery('simple', 'markt:*')"
            plan = "\n".join((await connection.scalars(text(explain))).all())
        assert "ix_statuses_search" in plan
