"""What one does to a status: boost, favourite, bookmark, pin, mute the conversation; who boosted or
favourited it. Outsiders get 404 for followers-only and direct posts, and nothing private leaks into lists."""
from __future__ import annotations

from sqlalchemy import select

from fedserver.outbox.published import PublishedActivity
from tests.cities import City
from tests.unit.api.mastodon.social import Reader, block, mute
from tests.unit.api.mastodon.statuses_support import STATUS_KEYS, audience, notification_kinds

ACTIONS = ("reblog", "favourite", "bookmark", "mute", "unreblog", "unfavourite", "unbookmark", "unmute")


async def test_every_action_answers_404_outside_the_audience(moers: City) -> None:
    seen = await audience(moers)
    for status in (seen.private, seen.direct):
        for action in (*ACTIONS, "pin", "unpin"):
            response = await seen.carla.post(f"/api/v1/statuses/{status.id}/{action}")
            assert response.status_code == 404, (status.visibility, action, response.text)
        for listing in ("reblogged_by", "favourited_by"):
            assert (await seen.carla.get(f"/api/v1/statuses/{status.id}/{listing}")).status_code == 404
            assert (await moers.client.get(f"/api/v1/statuses/{status.id}/{listing}")).status_code == 404
    for action in ACTIONS:
        assert (await seen.carla.post(f"/api/v1/statuses/999/{action}")).status_code == 404
        assert (await moers.client.post(f"/api/v1/statuses/{seen.public.id}/{action}")).status_code == 401


async def test_reblog_and_unreblog(moers: City) -> None:
    seen = await audience(moers)
    path = f"/api/v1/statuses/{seen.public.id}"
    response = await seen.bob.post(f"{path}/reblog")
    assert response.status_code == 200, response.text
    boost = response.json()
    assert set(boost) == STATUS_KEYS and boost["id"] != str(seen.public.id)
    assert boost["reblog"]["id"] == str(seen.public.id) and boost["reblogged"] is True
    assert boost["reblog"]["reblogs_count"] == 1
    assert (await seen.bob.post(f"{path}/reblog")).json()["id"] == boost["id"]  # once
    assert (await seen.carla.post(f"/api/v1/statuses/{boost['id']}/reblog")).json()["reblog"]["id"] == str(
        seen.public.id)  # boosting a boost boosts the original
    assert "reblog" in await notification_kinds(moers, "alice")
    undone = await seen.bob.post(f"{path}/unreblog")
    assert undone.status_code == 200 and undone.json()["id"] == str(seen.public.id)
    assert undone.json()["reblogged"] is False and undone.json()["reblogs_count"] == 1  # carla's is left


async def test_a_boost_of_a_followers_only_post_is_refused(moers: City) -> None:
    seen = await audience(moers)
    response = await seen.bob.post(f"/api/v1/statuses/{seen.private.id}/reblog")  # bob may see it
    assert response.status_code == 403 and "error" in response.json()
    assert (await seen.dora.post(f"/api/v1/statuses/{seen.direct.id}/reblog")).status_code == 403


async def test_reblog_visibility_sets_the_boosts_own_audience(moers: City) -> None:
    seen = await audience(moers)
    path = f"/api/v1/statuses/{seen.public.id}"
    assert (await seen.bob.post(f"{path}/reblog", visibility="secret")).status_code == 422
    boost = (await seen.bob.post(f"{path}/reblog", visibility="private")).json()
    assert boost["visibility"] == "private"
    assert (await seen.carla.get(f"/api/v1/statuses/{boost['id']}")).status_code == 404  # carla does not follow bob
    assert await seen.carla.ids(f"{path}/reblogged_by") == []  # a private boost is not listed
    async with moers.site.sessions() as session:
        announce = (await session.scalars(select(PublishedActivity).where(
            PublishedActivity.type == "Announce"))).one()
    assert announce.is_listed is False  # not in bob's public outbox


async def test_favourite_and_unfavourite(moers: City) -> None:
    seen = await audience(moers)
    path = f"/api/v1/statuses/{seen.private.id}"
    entity = (await seen.bob.post(f"{path}/favourite")).json()
    assert entity["favourited"] is True and entity["favourites_count"] == 1
    assert (await seen.bob.post(f"{path}/favourite")).json()["favourites_count"] == 1
    assert "favourite" in await notification_kinds(moers, "alice")
    entity = (await seen.bob.post(f"{path}/unfavourite")).json()
    assert entity["favourited"] is False and entity["favourites_count"] == 0
    assert "favourite" not in await notification_kinds(moers, "alice")


async def test_bookmark_and_unbookmark(moers: City) -> None:
    seen = await audience(moers)
    path = f"/api/v1/statuses/{seen.direct.id}"
    assert (await seen.dora.post(f"{path}/bookmark")).json()["bookmarked"] is True
    assert (await seen.dora.get(path)).json()["bookmarked"] is True
    assert (await seen.alice.get(path)).json()["bookmarked"] is False  # bookmarks are one's own
    assert (await seen.dora.post(f"{path}/unbookmark")).json()["bookmarked"] is False


async def test_pin_own_public_posts_up_to_five(moers: City) -> None:
    seen = await audience(moers)
    response = await seen.alice.post(f"/api/v1/statuses/{seen.public.id}/pin")
    assert response.status_code == 200 and response.json()["pinned"] is True
    assert (await seen.bob.post(f"/api/v1/statuses/{seen.public.id}/pin")).status_code == 422  # not bob's
    assert (await seen.alice.post(f"/api/v1/statuses/{seen.private.id}/pin")).status_code == 422
    boost = (await seen.bob.post(f"/api/v1/statuses/{seen.public.id}/reblog")).json()
    assert (await seen.bob.post(f"/api/v1/statuses/{boost['id']}/pin")).status_code == 422
    for number in range(4):
        posted = await moers.post("alice", f"Nummer {number}")
        assert (await seen.alice.post(f"/api/v1/statuses/{posted.id}/pin")).status_code == 200
    sixth = await moers.post("alice", "Eins zu viel")
    too_many = await seen.alice.post(f"/api/v1/statuses/{sixth.id}/pin")
    assert too_many.status_code == 422 and "maximum" in too_many.json()["error"]
    unpinned = await seen.alice.post(f"/api/v1/statuses/{seen.public.id}/unpin")
    assert unpinned.status_code == 200 and unpinned.json()["pinned"] is False
    assert (await seen.alice.post(f"/api/v1/statuses/{sixth.id}/pin")).status_code == 200
    assert (await (await Reader.of(moers, "alice", "read")).post(f"/api/v1/statuses/{sixth.id}/unpin")).status_code \
        == 403


async def test_muted_conversation_brings_no_notifications(moers: City) -> None:
    seen = await audience(moers)
    path = f"/api/v1/statuses/{seen.public.id}"
    assert (await seen.alice.post(f"{path}/mute")).json()["muted"] is True
    await seen.bob.post(f"{path}/favourite")
    reply = await seen.bob.post("/api/v1/statuses", status="@alice Antwort", in_reply_to_id=str(seen.public.id))
    assert (await seen.alice.get(f"/api/v1/statuses/{reply.json()['id']}")).json()["muted"] is True
    assert await notification_kinds(moers, "alice") == ["follow"]
    assert (await seen.alice.post(f"{path}/unmute")).json()["muted"] is False
    await seen.carla.post(f"{path}/favourite")
    assert await notification_kinds(moers, "alice") == ["follow", "favourite"]


async def test_reblogged_by_and_favourited_by_page_with_link_headers(moers: City) -> None:
    seen = await audience(moers)
    await moers.create_account("emil")
    emil = await Reader.of(moers, "emil")
    path = f"/api/v1/statuses/{seen.public.id}"
    for reader in (seen.bob, seen.carla, emil):
        await reader.post(f"{path}/favourite")
        await reader.post(f"{path}/reblog")
    for listing in ("favourited_by", "reblogged_by"):
        everyone = await seen.dora.get(f"{path}/{listing}")
        assert [a["username"] for a in everyone.json()] == ["emil", "carla", "bob"]  # newest first
        first = await seen.dora.get(f"{path}/{listing}", limit=2)
        assert [a["username"] for a in first.json()] == ["emil", "carla"]
        next_url = first.headers["link"].split(";")[0].strip("<>")
        rest = await moers.client.get(next_url, headers=seen.dora.headers)
        assert [a["username"] for a in rest.json()] == ["bob"]
        anonymous = await moers.client.get(f"{path}/{listing}")
        assert len(anonymous.json()) == 3
    await block(moers, "dora", "carla")
    await mute(moers, "dora", "emil")
    assert [a["username"] for a in (await seen.dora.get(f"{path}/favourited_by")).json()] == ["bob"]
    assert (await seen.bob.get(f"/api/v1/statuses/{seen.private.id}/favourited_by")).status_code == 200

