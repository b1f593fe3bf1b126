"""Grouped notifications (API v2, Mastodon 4.3): group keys, the grouped list, one group, dismiss,
the accounts of a group, the unread count of groups."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from fedserver import housekeeping

from fedserver.db import utcnow
from fedserver.local import accounts, notifications
from fedserver.local.models.statuses import Mention, Status
from tests.cities import City, start_city
from tests.unit.api.mastodon.social import Reader, actor_of, block, boost, follow, like

V2 = "/api/v2/notifications"
GROUP_KEYS = {"group_key", "notifications_count", "type", "most_recent_notification_id", "page_min_id",
              "page_max_id", "latest_page_notification_at", "sample_account_ids"}


async def _popular_alice(city: City) -> tuple[Status, Reader]:
    """bob, carla and dora like alice's post; bob and carla follow her; dora boosts it, erik mentions her."""
    for name in ("alice", "bob", "carla", "dora", "erik"):
        await city.create_account(name)
    post = await city.post("alice", "Hallo Moers")
    for name in ("bob", "carla", "dora"):
        await like(city, name, post)
    for name in ("bob", "carla"):
        await follow(city, name, "alice")
    await boost(city, "dora", post)
    await city.post("erik", "@alice schau mal")
    return post, await Reader.of(city, "alice")


async def test_grouped_list_folds_likes_and_follows_in_mastodons_shape(moers: City) -> None:
    post, alice = await _popular_alice(moers)
    body = (await alice.get(V2)).json()
    assert set(body) == {"accounts", "statuses", "notification_groups"}
    groups = body["notification_groups"]
    assert [group["type"] for group in groups] == ["mention", "reblog", "follow", "favourite"]
    favourite = groups[-1]
    assert set(favourite) == GROUP_KEYS | {"status_id"}
    assert favourite["group_key"].startswith(f"favourite-{post.id}-")
    assert favourite["notifications_count"] == 3 and favourite["status_id"] == str(post.id)
    ids = {name: str((await actor_of(moers, name)).id) for name in ("bob", "carla", "dora", "erik")}
    assert favourite["sample_account_ids"] == [ids["dora"], ids["carla"], ids["bob"]]  # newest first
    assert int(favourite["page_min_id"]) < int(favourite["page_max_id"]) == int(favourite["most_recent_notification_id"])
    follows = groups[2]
    assert follows["group_key"].startswith("follow-") and "status_id" not in follows
    assert follows["sample_account_ids"] == [ids["carla"], ids["bob"]]
    mention = groups[0]
    assert mention["group_key"] == f"ungrouped-{mention['most_recent_notification_id']}"
    assert mention["notifications_count"] == 1 and mention["page_min_id"] == mention["page_max_id"]
    # Strictly chronological by each group's newest notification.
    newest = [int(group["most_recent_notification_id"]) for group in groups]
    assert newest == sorted(newest, reverse=True)
    # Accounts and statuses are listed once each, beside the groups.
    assert sorted(account["id"] for account in body["accounts"]) == sorted(ids.values())
    assert {status["id"] for status in body["statuses"]} >= {str(post.id)}
    assert len(body["statuses"]) == len({status["id"] for status in body["statuses"]}) == 2


async def test_grouped_types_types_and_account_id_narrow_the_list(moers: City) -> None:
    post, alice = await _popular_alice(moers)
    only_follows_grouped = (await alice.get(V2, **{"grouped_types[]": "follow"})).json()["notification_groups"]
    favourites = [group for group in only_follows_grouped if group["type"] == "favourite"]
    assert len(favourites) == 3 and all(group["group_key"].startswith("ungrouped-") for group in favourites)
    only_likes = (await alice.get(V2, **{"types[]": "favourite"})).json()["notification_groups"]
    assert [(group["type"], group["notifications_count"]) for group in only_likes] == [("favourite", 3)]
    without = (await alice.get(V2, **{"exclude_types[]": ["favourite", "follow"]})).json()["notification_groups"]
    assert [group["type"] for group in without] == ["mention", "reblog"]
    bob = str((await actor_of(moers, "bob")).id)
    by_bob = (await alice.get(V2, account_id=bob)).json()["notification_groups"]
    assert {group["type"] for group in by_bob} == {"favourite", "follow"}
    assert all(group["sample_account_ids"] == [bob] for group in by_bob)


async def test_grouped_list_pages_by_groups_with_link_headers(moers: City) -> None:
    post, alice = await _popular_alice(moers)
    first = await alice.get(V2, limit=2)
    assert [group["type"] for group in first.json()["notification_groups"]] == ["mention", "reblog"]
    link = first.headers["link"]
    max_id = link.split("max_id=")[1].split(">")[0]
    rest = (await alice.get(V2, limit=2, max_id=max_id)).json()["notification_groups"]
    assert [group["type"] for group in rest] == ["follow", "favourite"]
    newer = (await alice.get(V2, min_id=rest[-1]["page_max_id"])).json()["notification_groups"]
    assert [group["type"] for group in newer] == ["mention", "reblog", "follow"]
    assert (await alice.get(V2, max_id="not-an-id")).status_code == 400


async def test_partial_avatars_give_one_full_account_per_group(moers: City) -> None:
    post, alice = await _popular_alice(moers)
    body = (await alice.get(V2, expand_accounts="partial_avatars", **{"types[]": "favourite"})).json()
    assert [account["username"] for account in body["accounts"]] == ["dora"]
    assert sorted(partial["acct"] for partial in body["partial_accounts"]) == ["bob", "carla"]
    assert set(body["partial_accounts"][0]) == {"id", "acct", "url", "avatar", "avatar_static", "locked", "bot"}
    bad = await alice.get(V2, expand_accounts="everything")
    assert bad.status_code == 400 and "expand_accounts" in bad.json()["error"]


async def test_one_group_its_accounts_and_dismissing_it(moers: City) -> None:
    post, alice = await _popular_alice(moers)
    favourite = (await alice.get(V2, **{"types[]": "favourite"})).json()["notification_groups"][0]
    key = favourite["group_key"]
    one = (await alice.get(f"{V2}/{key}")).json()
    group = one["notification_groups"][0]
    assert group["notifications_count"] == 3 and "page_min_id" not in group and group["group_key"] == key
    assert [status["id"] for status in one["statuses"]] == [str(post.id)]
    names = [account["username"] for account in (await alice.get(f"{V2}/{key}/accounts")).json()]
    assert names == ["dora", "carla", "bob"]
    paged = await alice.get(f"{V2}/{key}/accounts", limit=2)
    assert [a["username"] for a in paged.json()] == ["dora", "carla"] and 'rel="next"' in paged.headers["link"]
    assert (await alice.post(f"{V2}/{key}/dismiss")).json() == {}
    assert (await alice.get(f"{V2}/{key}")).status_code == 404
    assert (await alice.get(f"{V2}/{key}/accounts")).status_code == 404
    remaining = [g["type"] for g in (await alice.get(V2)).json()["notification_groups"]]
    assert remaining == ["mention", "reblog", "follow"]
    mention_key = (await alice.get(V2)).json()["notification_groups"][0]["group_key"]
    assert (await alice.get(f"{V2}/{mention_key}")).json()["notification_groups"][0]["type"] == "mention"
    for missing in ("favourite-1-1", "ungrouped-1", "ungrouped-x"):
        response = await alice.get(f"{V2}/{missing}")
        assert response.status_code == 404 and response.json() == {"error": "Record not found"}


async def test_groups_are_private_visible_and_scoped(moers: City) -> None:
    post, alice = await _popular_alice(moers)
    key = (await alice.get(V2, **{"types[]": "favourite"})).json()["notification_groups"][0]["group_key"]
    bob = await Reader.of(moers, "bob")
    assert (await bob.get(f"{V2}/{key}")).status_code == 404
    assert (await bob.post(f"{V2}/{key}/dismiss")).status_code == 200  # nothing of bob's to dismiss
    assert (await alice.get(f"{V2}/{key}")).status_code == 200
    # A blocked account's notifications leave the groups; a post alice can no longer see takes its mention away.
    await block(moers, "alice", "carla")
    favourite = (await alice.get(f"{V2}/{key}")).json()["notification_groups"][0]
    assert favourite["notifications_count"] == 2
    async with moers.site.sessions() as session, session.begin():
        mention = await session.scalar(select(Status).where(Status.source_text == "@alice schau mal"))
        assert mention is not None
        # Followers-only and no longer addressed to alice (she does not follow erik): she may not see it.
        mention.visibility = "private"
        await session.execute(delete(Mention).where(Mention.status_id == mention.id))
    assert "mention" not in [g["type"] for g in (await alice.get(V2)).json()["notification_groups"]]
    reader = await Reader.of(moers, "alice", scopes="read:statuses")
    assert (await reader.get(V2)).status_code == 403
    assert (await reader.get("/api/v2/notifications/unread_count")).status_code == 403
    writer = await Reader.of(moers, "alice", scopes="read:notifications")
    assert (await writer.post(f"{V2}/{key}/dismiss")).status_code == 403
    assert (await moers.client.get(V2)).status_code == 401


async def test_unread_count_counts_groups_after_the_marker(moers: City) -> None:
    post, alice = await _popular_alice(moers)
    assert (await alice.get(f"{V2}/unread_count")).json() == {"count": 4}
    assert (await alice.get(f"{V2}/unread_count", limit=2)).json() == {"count": 2}
    groups = (await alice.get(V2)).json()["notification_groups"]
    marked = await alice.post("/api/v1/markers", notifications={"last_read_id": groups[1]["most_recent_notification_id"]})
    assert marked.status_code == 200, marked.text
    assert (await alice.get(f"{V2}/unread_count")).json() == {"count": 1}
    assert (await alice.get(f"{V2}/unread_count", **{"types[]": "favourite"})).json() == {"count": 0}


async def test_group_keys_follow_mastodons_twelve_hour_span(moers: City) -> None:
    for name in ("alice", "bob", "carla", "dora"):
        await moers.create_account(name)
    post = await moers.post("alice", "Hallo")
    start = utcnow()
    keys = []
    async with moers.site.sessions() as session, session.begin():
        alice = (await accounts.find_by_username(session, "alice")).actor
        for name, hours in (("bob", 0), ("carla", 11), ("dora", 13)):
            liker = (await accounts.find_by_username(session, name)).actor
            made = await notifications.notify(session, alice, "favourite", liker, status_id=post.id,
                                              now=start + timedelta(hours=hours))
            assert made is not None
            keys.append(made.group_key)
        mention = await notifications.notify(session, alice, "mention", liker, status_id=post.id, now=start)
    hour = int(start.timestamp()) // 3600
    assert keys[0] == keys[1] == f"favourite-{post.id}-{hour}"
    assert mention is not None and mention.group_key is None
    assert keys[2] is not None and keys[2] != keys[0]


@pytest.mark.postgres
async def test_grouped_notifications_and_scheduled_statuses_on_postgresql(tmp_path: Path,
                                                                          fresh_postgres_url: str) -> None:
    async with start_city(tmp_path / "moers", "moers.test", database_url=fresh_postgres_url) as city:
        post, alice = await _popular_alice(city)
        groups = (await alice.get(V2)).json()["notification_groups"]
        assert [(g["type"], g["notifications_count"]) for g in groups] == [
            ("mention", 1), ("reblog", 1), ("follow", 2), ("favourite", 3)]
        assert (await alice.get(f"{V2}/unread_count")).json() == {"count": 4}
        assert len((await alice.get(f"{V2}/{groups[-1]['group_key']}/accounts")).json()) == 3
        when = (utcnow() + timedelta(minutes=10)).isoformat()
        scheduled = (await alice.post("/api/v1/statuses", status="Später", scheduled_at=when)).json()
        assert [item["id"] for item in (await alice.get("/api/v1/scheduled_statuses")).json()] == [scheduled["id"]]
        later = utcnow() + timedelta(minutes=11)
        assert await housekeeping.publish_scheduled(city.site.sessions, city.site.urls, now=later) == 1
        assert (await alice.get("/api/v1/scheduled_statuses")).json() == []
