"""Notifications: list (types, exclude_types, account_id, paging), get, dismiss, clear, unread count."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from fedserver.db import utcnow
from fedserver.local import accounts, notifications
from fedserver.local.models.statuses import Status
from tests.cities import City
from tests.unit.api.mastodon.social import Reader, actor_of, block, boost, follow, like

NOTIFICATIONS = "/api/v1/notifications"


async def _mention(city: City, recipient: str, sender: str, status: Status) -> None:
    async with city.site.sessions() as session, session.begin():
        to = (await accounts.find_by_username(session, recipient)).actor
        by = (await accounts.find_by_username(session, sender)).actor
        await notifications.notify(session, to, "mention", by, status_id=status.id, now=utcnow())


async def _busy_alice(city: City) -> tuple[Status, Reader]:
    """bob follows alice, likes and boosts her post, carla mentions her: four notifications."""
    for name in ("alice", "bob", "carla"):
        await city.create_account(name)
    post = await city.post("alice", "Hallo")
    await follow(city, "bob", "alice")
    await like(city, "bob", post)
    await boost(city, "bob", post)
    await city.post("carla", "@alice schau mal")  # statuses.create tells the mentioned
    return post, await Reader.of(city, "alice")


async def test_notifications_list_newest_first_in_mastodons_shape(moers: City) -> None:
    post, alice = await _busy_alice(moers)
    page = (await alice.get(NOTIFICATIONS)).json()
    assert [item["type"] for item in page] == ["mention", "reblog", "favourite", "follow"]
    follow_entity = page[-1]
    assert set(follow_entity) == {"id", "type", "created_at", "group_key", "account"}  # no status key
    assert follow_entity["account"]["username"] == "bob"
    favourite = page[2]
    assert favourite["status"]["id"] == str(post.id) and favourite["group_key"] == f"ungrouped-{favourite['id']}"
    assert favourite["created_at"].endswith("Z")


async def test_notifications_filter_by_type_and_account(moers: City) -> None:
    _post, alice = await _busy_alice(moers)
    assert [n["type"] for n in (await alice.get(NOTIFICATIONS, **{"types[]": ["follow", "mention"]})).json()] == [
        "mention", "follow"]
    assert [n["type"] for n in (await alice.get(NOTIFICATIONS, **{"exclude_types[]": ["reblog"]})).json()] == [
        "mention", "favourite", "follow"]
    carla = await actor_of(moers, "carla")
    assert [n["type"] for n in (await alice.get(NOTIFICATIONS, account_id=str(carla.id))).json()] == ["mention"]


async def test_notifications_page_and_link_keep_the_filters(moers: City) -> None:
    _post, alice = await _busy_alice(moers)
    every = await alice.ids(NOTIFICATIONS)
    response = await alice.get(NOTIFICATIONS, limit=2, **{"exclude_types[]": ["mention"]})
    assert [n["id"] for n in response.json()] == every[1:3]
    following = parse_qs(urlparse(response.links["next"]["url"]).query)
    assert following["max_id"] == [every[2]] and following["exclude_types[]"] == ["mention"]
    assert await alice.ids(NOTIFICATIONS, max_id=every[2]) == every[3:]
    assert await alice.ids(NOTIFICATIONS, min_id=every[3], limit=2) == every[1:3]
    assert await alice.ids(NOTIFICATIONS, since_id=every[1]) == every[:1]


async def test_one_notification_dismiss_and_clear(moers: City) -> None:
    _post, alice = await _busy_alice(moers)
    every = await alice.ids(NOTIFICATIONS)
    assert (await alice.get(f"{NOTIFICATIONS}/{every[0]}")).json()["type"] == "mention"
    bob = await Reader.of(moers, "bob")
    assert (await bob.get(f"{NOTIFICATIONS}/{every[0]}")).status_code == 404
    assert (await bob.post(f"{NOTIFICATIONS}/{every[0]}/dismiss")).status_code == 404
    assert (await alice.post(f"{NOTIFICATIONS}/{every[0]}/dismiss")).json() == {}
    assert await alice.ids(NOTIFICATIONS) == every[1:]
    assert (await alice.post(f"{NOTIFICATIONS}/clear")).status_code == 200
    assert await alice.ids(NOTIFICATIONS) == []


async def test_unread_count_follows_the_notifications_marker(moers: City) -> None:
    _post, alice = await _busy_alice(moers)
    every = await alice.ids(NOTIFICATIONS)
    assert (await alice.get(f"{NOTIFICATIONS}/unread_count")).json() == {"count": 4}
    await alice.post("/api/v1/markers", notifications={"last_read_id": every[1]})
    assert (await alice.get(f"{NOTIFICATIONS}/unread_count")).json() == {"count": 1}
    assert (await alice.get(f"{NOTIFICATIONS}/unread_count", limit=0)).json() == {"count": 1}  # clamped to 1


async def test_notifications_need_the_right_scopes(moers: City) -> None:
    _post, _alice = await _busy_alice(moers)
    reader = await Reader.of(moers, "alice", scopes="read:notifications")
    assert (await reader.get(NOTIFICATIONS)).status_code == 200
    assert (await reader.post(f"{NOTIFICATIONS}/clear")).status_code == 403
    assert (await moers.client.get(NOTIFICATIONS)).status_code == 401


async def test_notifications_about_posts_the_reader_may_not_see_are_left_out(moers: City) -> None:
    for name in ("alice", "bob"):
        await moers.create_account(name)
    secret = await moers.post("bob", "Nur für Follower", visibility="private")
    await _mention(moers, "alice", "bob", secret)  # a notification about a post she may not see
    alice = await Reader.of(moers, "alice")
    assert await alice.ids(NOTIFICATIONS) == []
    direct = await moers.post("bob", "@alice nur für dich", visibility="direct")
    page = (await alice.get(NOTIFICATIONS)).json()
    assert [n["status"]["id"] for n in page] == [str(direct.id)]
    await block(moers, "alice", "bob")
    assert await alice.ids(NOTIFICATIONS) == []
