"""Instance activity, directory, announcements, preferences, and the honest empty lists (no ranking)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from fedserver.db import utcnow
from fedserver.local import accounts, blocks
from fedserver.local.models.accounts import ADMIN
from fedserver.local.models.clients import Announcement
from fedserver.local.models.interactions import DomainBlock
from tests.api_clients import bearer, token_for
from tests.cities import City


async def get(city: City, path: str, token: str | None = None, **params: Any) -> Any:
    return await city.client.get(path, params=params, headers=bearer(token) if token else {})


async def test_instance_activity_counts_twelve_weeks_newest_first(moers: City) -> None:
    await moers.create_account("alice")
    await moers.post("alice", "Eins")
    await moers.post("alice", "Zwei", visibility="private")
    await token_for(moers, "alice")
    weeks = (await get(moers, "/api/v1/instance/activity")).json()
    assert len(weeks) == 12 and set(weeks[0]) == {"week", "statuses", "logins", "registrations"}
    assert all(isinstance(value, str) for week in weeks for value in week.values())
    assert weeks[0] == {**weeks[0], "statuses": "2", "logins": "1", "registrations": "1"}
    assert all(week["statuses"] == "0" for week in weeks[1:])
    starts = [datetime.fromtimestamp(int(week["week"]), timezone.utc) for week in weeks]
    assert all(start.weekday() == 0 and start.hour == 0 for start in starts)  # Mondays, 00:00 UTC
    assert [a - b for a, b in zip(starts, starts[1:])] == [timedelta(weeks=1)] * 11
    assert starts[0] <= utcnow() < starts[0] + timedelta(weeks=1)


async def test_instance_extras(moers: City) -> None:
    async with moers.site.sessions() as session, session.begin():
        session.add(DomainBlock(actor_id=None, domain="spam.example", severity="suspend", reason="Spam"))
    blocked = (await get(moers, "/api/v1/instance/domain_blocks")).json()
    assert blocked[0]["domain"] == "spam.example" and blocked[0]["severity"] == "suspend"
    assert len(blocked[0]["digest"]) == 64 and blocked[0]["comment"] == "Spam"
    assert "Moers" in (await get(moers, "/api/v1/instance/extended_description")).json()["content"]
    assert (await get(moers, "/api/v1/instance/translation_languages")).json() == {}
    assert (await get(moers, "/api/v1/custom_emojis")).json() == []


async def test_directory_lists_discoverable_accounts_only(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    await moers.create_account("hidden", is_discoverable=False)
    await moers.create_account("carla")
    await moers.post("alice", "Ich war zuletzt da")
    names = [a["acct"] for a in (await get(moers, "/api/v1/directory", local="true")).json()]
    assert names[0] == "alice" and set(names) == {"alice", "bob", "carla"}  # active: latest post first
    newest = [a["acct"] for a in (await get(moers, "/api/v1/directory", order="new")).json()]
    assert newest == ["carla", "bob", "alice"]
    second = (await get(moers, "/api/v1/directory", order="new", limit=1, offset=1)).json()
    assert [a["acct"] for a in second] == ["bob"]
    async with moers.site.sessions() as session, session.begin():
        carla = await accounts.find_by_username(session, "carla")
        bob = await accounts.find_by_username(session, "bob")
        await blocks.block(session, moers.site.urls, carla.actor, bob.actor, now=utcnow())
    seen_by_bob = [a["acct"] for a in (await get(moers, "/api/v1/directory", await token_for(moers, "bob"))).json()]
    assert "carla" not in seen_by_bob
    assert (await get(moers, "/api/v1/directory", order="best")).status_code == 400
    assert (await get(moers, "/api/v1/directory", limit="-1")).status_code == 400


async def test_announcements_publish_read_dismiss(moers: City) -> None:
    await moers.create_account("alice")
    admin = await moers.create_account("rathaus", kind="city")
    async with moers.site.sessions() as session, session.begin():
        (await session.get(type(admin), admin.id)).role = ADMIN  # type: ignore[union-attr]
    async with moers.site.sessions() as session, session.begin():
        session.add(Announcement(content_html="<p>Vorbei</p>", ends_at=utcnow() - timedelta(days=1)))
    city = await token_for(moers, "rathaus", "read write admin:write")
    alice = await token_for(moers, "alice")
    published = await moers.client.post("/api/v1/announcements", headers=bearer(city),
                                        json={"text": "Sperrmüll am #Montag", "ends_at": "2099-01-01T00:00:00Z"})
    assert published.status_code == 200, published.text
    entity = published.json()
    assert entity["content"].startswith("<p>Sperrmüll") and entity["ends_at"] == "2099-01-01T00:00:00.000Z"
    assert entity["reactions"] == [] and entity["all_day"] is False and entity["published"] is True
    listed = (await get(moers, "/api/v1/announcements", alice)).json()
    assert [a["id"] for a in listed] == [entity["id"]] and listed[0]["read"] is False
    path = f"/api/v1/announcements/{entity['id']}"
    assert (await moers.client.post(f"{path}/dismiss", headers=bearer(alice))).json() == {}
    assert (await moers.client.post(f"{path}/dismiss", headers=bearer(alice))).status_code == 200
    assert (await get(moers, "/api/v1/announcements", alice)).json() == []
    again = (await get(moers, "/api/v1/announcements", alice, with_dismissed="true")).json()
    assert again[0]["read"] is True
    reaction = await moers.client.put(f"{path}/reactions/%F0%9F%91%8D", headers=bearer(alice))
    assert reaction.status_code == 422 and "not supported" in reaction.json()["error"]
    assert (await moers.client.delete(f"{path}/reactions/%F0%9F%91%8D", headers=bearer(alice))).json() == {}
    assert (await moers.client.post("/api/v1/announcements/999/dismiss", headers=bearer(alice))).status_code == 404
    assert (await get(moers, "/api/v1/announcements")).status_code == 401


@pytest.mark.parametrize(("scopes", "username", "body", "status"), [
    ("read write admin:write", "alice", {"text": "Ich bin nicht die Stadt"}, 403),
    ("read write", "rathaus", {"text": "Ohne Adminrecht im Token"}, 403),
    ("read write admin:write", "rathaus", {"text": " "}, 422),
    ("read write admin:write", "rathaus", {"text": "x", "ends_at": "morgen"}, 422),
    ("read write admin:write", "rathaus", {"text": "x", "starts_at": "2099-01-02T00:00:00Z",
                                         "ends_at": "2099-01-01T00:00:00Z"}, 422),
])
async def test_publishing_announcements_is_for_the_city(moers: City, scopes: str, username: str,
                                                        body: dict[str, str], status: int) -> None:
    await moers.create_account("alice")
    admin = await moers.create_account("rathaus", kind="city")
    async with moers.site.sessions() as session, session.begin():
        (await session.get(type(admin), admin.id)).role = ADMIN  # type: ignore[union-attr]
    token = await token_for(moers, username, scopes)
    response = await moers.client.post("/api/v1/announcements", headers=bearer(token), json=body)
    assert response.status_code == status


@pytest.mark.parametrize("path", ["/api/v1/trends", "/api/v1/trends/tags", "/api/v1/trends/statuses",
                                  "/api/v1/trends/links"])
async def test_trends_are_empty_because_nothing_is_ranked(moers: City, path: str) -> None:
    await moers.create_account("alice")
    await moers.post("alice", "#Beliebt #Beliebt")
    response = await get(moers, path)
    assert response.status_code == 200 and response.json() == []


async def test_suggestions_followed_and_featured_tags_are_empty(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    token = await token_for(moers, "alice")
    for path in ("/api/v1/suggestions", "/api/v2/suggestions", "/api/v1/followed_tags", "/api/v1/featured_tags",
                 "/api/v1/featured_tags/suggestions"):
        response = await get(moers, path, token)
        assert response.status_code == 200 and response.json() == [], path
        assert (await get(moers, path)).status_code == 401, path
    assert (await moers.client.delete("/api/v1/suggestions/123", headers=bearer(token))).json() == {}


async def test_preferences(moers: City) -> None:
    await moers.create_account("alice")
    preferences = (await get(moers, "/api/v1/preferences", await token_for(moers, "alice"))).json()
    assert preferences == {"posting:default:visibility": "public", "posting:default:sensitive": False,
                           "posting:default:language": "de", "reading:expand:media": "default",
                           "reading:expand:spoilers": False}
    assert (await get(moers, "/api/v1/preferences", await token_for(moers, "alice", "write"))).status_code == 403
    assert (await get(moers, "/api/v1/preferences")).status_code == 401
