"""Statuses: post (media, replies, Idempotency-Key), get, get many, delete for redraft, edit, history, source,
context; every refusal Mastodon gives, and a followers-only or direct post never shown outside its audience."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sqlalchemy import select, update

from fedserver.db import utcnow
from fedserver.local.models.clients import IdempotencyKey
from fedserver.local.models.interactions import Follow
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.statuses import Status
from fedserver.outbox.published import PublishedActivity
from tests.api_clients import bearer, token_for
from tests.cities import City, start_city
from tests.unit.api.mastodon.social import Reader, block, follow, mute
from tests.unit.api.mastodon.statuses_support import STATUS_KEYS, audience, notification_kinds, upload


async def test_post_answers_a_status_entity_with_mastodons_keys_and_types(moers: City) -> None:
    await moers.create_account("alice")
    token = await token_for(moers, "alice")
    response = await moers.client.post("/api/v1/statuses", data={"status": "Hallo #Moers", "spoiler_text": "Gruß",
                                                                 "language": "NL"}, headers=bearer(token))
    assert response.status_code == 200, response.text
    entity = response.json()
    assert set(entity) == STATUS_KEYS
    assert isinstance(entity["id"], str) and entity["visibility"] == "public"
    assert entity["content"].startswith("<p>Hallo") and entity["tags"][0]["name"] == "moers"
    assert entity["spoiler_text"] == "Gruß" and entity["sensitive"] is True  # a content warning makes it sensitive
    assert entity["language"] == "nl" and entity["poll"] is None and entity["application"] is None
    assert entity["created_at"].endswith("Z") and entity["edited_at"] is None


async def test_post_defaults_and_a_lone_content_warning(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    entity = (await alice.post("/api/v1/statuses", status="Moin", language="not a language")).json()
    assert entity["visibility"] == "public" and entity["language"] == "de"  # the account's language
    lone = (await alice.post("/api/v1/statuses", status="", spoiler_text="Nur eine Warnung")).json()
    assert "Nur eine Warnung" in lone["content"] and lone["spoiler_text"] == ""  # as Mastodon posts it


async def test_post_refuses_bad_input(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    cases: list[tuple[dict[str, Any], int]] = [
        ({"status": "  "}, 422), ({"status": "x" * 5001}, 422), ({"status": "x", "visibility": "secret"}, 422),
        ({"status": "x", "spoiler_text": "y" * 1025}, 422),
        ({"status": "x", "scheduled_at": "2020-01-01T00:00:00Z"}, 422),  # not 5 minutes ahead
        ({"status": "x", "in_reply_to_id": "999999"}, 404), ({"status": "x", "in_reply_to_id": "nonsense"}, 404),
        ({"status": "x", "media_ids": ["12345"]}, 422), ({"status": "x", "media_ids": ["not-an-id"]}, 422),
    ]
    for body, expected in cases:
        response = await alice.post("/api/v1/statuses", **body)
        assert response.status_code == expected, (body, response.text)
        assert "error" in response.json()
    assert (await alice.post("/api/v1/statuses", status="   ")).json()["details"]["status"][0]["error"] == "ERR_BLANK"


async def test_post_needs_a_user_token_with_write_scope(moers: City) -> None:
    await moers.create_account("alice")
    assert (await moers.client.post("/api/v1/statuses", data={"status": "x"})).status_code == 401
    reader = await Reader.of(moers, "alice", "read")
    assert (await reader.post("/api/v1/statuses", status="x")).status_code == 403
    granular = await Reader.of(moers, "alice", "write:statuses")
    assert (await granular.post("/api/v1/statuses", status="x")).status_code == 200


async def test_post_attaches_own_uploads_in_order(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    alice = await Reader.of(moers, "alice")
    first, second = await upload(moers, "alice"), await upload(moers, "alice")
    response = await alice.post("/api/v1/statuses", status="", media_ids=[str(second.id), str(first.id)])
    assert response.status_code == 200, response.text
    assert [m["id"] for m in response.json()["media_attachments"]] == [str(second.id), str(first.id)]
    again = await alice.post("/api/v1/statuses", status="x", media_ids=[str(first.id)])
    assert again.status_code == 422  # already on a post
    foreign = await upload(moers, "bob")
    assert (await alice.post("/api/v1/statuses", status="x", media_ids=[str(foreign.id)])).status_code == 422
    five = [str((await upload(moers, "alice")).id) for _ in range(5)]
    assert (await alice.post("/api/v1/statuses", status="x", media_ids=five)).status_code == 422
    video, image = await upload(moers, "alice", "video"), await upload(moers, "alice")
    mixed = await alice.post("/api/v1/statuses", status="x", media_ids=[str(video.id), str(image.id)])
    assert mixed.status_code == 422
    with_poll = await alice.post("/api/v1/statuses", status="x", media_ids=[str(image.id)],
                                 poll={"options": ["a", "b"], "expires_in": 600})
    assert with_poll.status_code == 422


async def test_idempotency_key_returns_the_first_status_within_an_hour(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    alice, bob = await Reader.of(moers, "alice"), await Reader.of(moers, "bob")
    key = {"Idempotency-Key": "abc-123"}

    async def post(reader: Reader, text: str) -> str:
        response = await moers.client.post("/api/v1/statuses", json={"status": text},
                                           headers={**reader.headers, **key})
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    first = await post(alice, "Einmal")
    assert await post(alice, "Zweimal?") == first
    assert await post(bob, "Bob") != first  # keys are per account
    async with moers.site.sessions() as session, session.begin():
        await session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=2)))
    assert await post(alice, "Eine Stunde später") != first


async def test_reply_must_answer_a_visible_post(moers: City) -> None:
    seen = await audience(moers)
    reply = await seen.bob.post("/api/v1/statuses", status="@alice Gern!", in_reply_to_id=str(seen.private.id))
    assert reply.status_code == 200, reply.text
    assert reply.json()["in_reply_to_id"] == str(seen.private.id)
    assert reply.json()["in_reply_to_account_id"] == str(seen.private.author_id)
    refused = await seen.carla.post("/api/v1/statuses", status="Ich auch", in_reply_to_id=str(seen.private.id))
    assert refused.status_code == 404
    assert refused.json()["error"] == "The post you are trying to reply to does not appear to exist."
    assert "mention" in await notification_kinds(moers, "alice")


async def test_followers_with_notify_hear_of_new_posts(moers: City) -> None:
    seen = await audience(moers)
    async with moers.site.sessions() as session, session.begin():
        await session.execute(update(Follow).values(notify=True))  # bob follows alice with notify=true
    await seen.alice.post("/api/v1/statuses", status="Neuigkeiten")
    await seen.alice.post("/api/v1/statuses", status="@dora direkt", visibility="direct")
    await seen.alice.post("/api/v1/statuses", status="Antwort an Carla", in_reply_to_id=str(
        (await seen.carla.post("/api/v1/statuses", status="Frage")).json()["id"]))
    assert (await notification_kinds(moers, "bob")).count("status") == 1
    assert "mention" in await notification_kinds(moers, "dora")


async def test_get_answers_only_within_the_audience(moers: City) -> None:
    seen = await audience(moers)
    cases = {seen.public: {"anon", "alice", "bob", "carla", "dora"}, seen.private: {"alice", "bob"},
             seen.direct: {"alice", "dora"}}
    readers = {"alice": seen.alice, "bob": seen.bob, "carla": seen.carla, "dora": seen.dora}
    for status, allowed in cases.items():
        anonymous = await moers.client.get(f"/api/v1/statuses/{status.id}")
        assert (anonymous.status_code == 200) == ("anon" in allowed), status.visibility
        for name, reader in readers.items():
            response = await reader.get(f"/api/v1/statuses/{status.id}")
            assert response.status_code == (200 if name in allowed else 404), (status.visibility, name)
    assert (await seen.bob.get("/api/v1/statuses/123")).status_code == 404
    assert (await seen.bob.get("/api/v1/statuses/abc")).status_code == 404
    await block(moers, "alice", "carla")
    assert (await seen.carla.get(f"/api/v1/statuses/{seen.public.id}")).status_code == 404


async def test_get_many_keeps_order_and_leaves_out_what_is_hidden(moers: City) -> None:
    seen = await audience(moers)
    ids = [str(seen.direct.id), str(seen.public.id), "garbage", str(seen.private.id)]
    assert await seen.bob.ids("/api/v1/statuses", **{"id[]": ids}) == [str(seen.public.id), str(seen.private.id)]
    assert await seen.carla.ids("/api/v1/statuses", **{"id[]": ids}) == [str(seen.public.id)]
    anonymous = await moers.client.get("/api/v1/statuses", params={"id[]": ids})
    assert [item["id"] for item in anonymous.json()] == [str(seen.public.id)]
    too_many = await seen.bob.get("/api/v1/statuses", **{"id[]": [str(n) for n in range(1, 22)]})
    assert too_many.status_code == 422


async def test_delete_returns_the_source_and_keeps_media_for_a_redraft(moers: City) -> None:
    seen = await audience(moers)
    item = await upload(moers, "alice")
    posted = (await seen.alice.post("/api/v1/statuses", status="Tippfehlr #moers", media_ids=[str(item.id)])).json()
    assert (await seen.bob.delete(f"/api/v1/statuses/{posted['id']}")).status_code == 404  # not bob's
    response = await seen.alice.delete(f"/api/v1/statuses/{posted['id']}")
    assert response.status_code == 200, response.text
    entity = response.json()
    assert entity["text"] == "Tippfehlr #moers" and "content" not in entity
    assert entity["media_attachments"][0]["id"] == str(item.id)
    assert (await seen.alice.get(f"/api/v1/statuses/{posted['id']}")).status_code == 404
    redraft = await seen.alice.post("/api/v1/statuses", status="Tippfehler #moers", media_ids=[str(item.id)])
    assert redraft.status_code == 200, redraft.text
    async with moers.site.sessions() as session:
        deletes = (await session.scalars(select(PublishedActivity.type).where(
            PublishedActivity.object_ap_id == posted["uri"]))).all()
    assert deletes == ["Delete"]  # its Create left the outbox, its Delete went out


async def test_delete_media_removes_the_uploads(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    item = await upload(moers, "alice")
    posted = (await alice.post("/api/v1/statuses", status="Weg damit", media_ids=[str(item.id)])).json()
    assert (await alice.delete(f"/api/v1/statuses/{posted['id']}", delete_media="true")).status_code == 200
    async with moers.site.sessions() as session:
        assert await session.get(MediaAttachment, item.id) is None


async def test_delete_of_a_boost_undoes_it(moers: City) -> None:
    seen = await audience(moers)
    boost = (await seen.bob.post(f"/api/v1/statuses/{seen.public.id}/reblog")).json()
    assert (await seen.bob.delete(f"/api/v1/statuses/{boost['id']}")).status_code == 200
    assert (await seen.bob.get(f"/api/v1/statuses/{seen.public.id}")).json()["reblogged"] is False


async def test_edit_changes_text_keeps_history_and_source(moers: City) -> None:
    seen = await audience(moers)
    posted = (await seen.alice.post("/api/v1/statuses", status="Erste Fassung", spoiler_text="CW")).json()
    path = f"/api/v1/statuses/{posted['id']}"
    edited = await seen.alice.put(path, status="Zweite Fassung", language="en")
    assert edited.status_code == 200, edited.text
    entity = edited.json()
    assert "Zweite" in entity["content"] and entity["edited_at"] is not None
    assert entity["spoiler_text"] == "CW" and entity["language"] == "en"  # left out: kept
    history = (await seen.bob.get(f"{path}/history")).json()
    assert [("Erste" in v["content"], "Zweite" in v["content"]) for v in history] == [(True, False), (False, True)]
    assert set(history[0]) == {"content", "spoiler_text", "sensitive", "created_at", "account", "media_attachments",
                               "emojis"}
    assert history[0]["created_at"] == posted["created_at"] and history[1]["created_at"] == entity["edited_at"]
    source = (await seen.alice.get(f"{path}/source")).json()
    assert source == {"id": posted["id"], "text": "Zweite Fassung", "spoiler_text": "CW"}


async def test_edit_refusals(moers: City) -> None:
    seen = await audience(moers)
    path = f"/api/v1/statuses/{seen.public.id}"
    assert (await seen.bob.put(path, status="Gehackt")).status_code == 404
    assert (await seen.alice.put(path, status="  ")).status_code == 422
    assert (await seen.alice.put("/api/v1/statuses/42", status="x")).status_code == 404
    assert (await moers.client.put(path, json={"status": "x"})).status_code == 401
    assert (await seen.bob.get(f"{path}/source")).status_code == 404
    assert (await moers.client.get(f"{path}/source")).status_code == 401


async def test_edit_replaces_media_as_mastodon_does(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    first, second = await upload(moers, "alice"), await upload(moers, "alice")
    posted = (await alice.post("/api/v1/statuses", status="Bilder", media_ids=[str(first.id)])).json()
    path = f"/api/v1/statuses/{posted['id']}"
    entity = (await alice.put(path, status="Bilder", media_ids=[str(second.id), str(first.id)])).json()
    assert [m["id"] for m in entity["media_attachments"]] == [str(second.id), str(first.id)]
    entity = (await alice.put(path, status="Ohne Bilder")).json()  # media_ids left out: none
    assert entity["media_attachments"] == []
    async with moers.site.sessions() as session:
        assert (await session.get(MediaAttachment, first.id)).status_id is None  # type: ignore[union-attr]


async def test_history_and_context_answer_404_outside_the_audience(moers: City) -> None:
    seen = await audience(moers)
    for status in (seen.private, seen.direct):
        for suffix in ("history", "context"):
            assert (await seen.carla.get(f"/api/v1/statuses/{status.id}/{suffix}")).status_code == 404
            assert (await moers.client.get(f"/api/v1/statuses/{status.id}/{suffix}")).status_code == 404
    assert (await seen.bob.get(f"/api/v1/statuses/{seen.private.id}/history")).status_code == 200


async def test_context_lists_the_thread_in_reading_order_as_far_as_visible(moers: City) -> None:
    seen = await audience(moers)
    await moers.create_account("emil")
    await follow(moers, "emil", "alice")

    async def reply(name: str, to: Status, text: str, visibility: str = "public") -> Status:
        async with moers.site.sessions() as session:
            parent = await session.get(Status, to.id)
        assert parent is not None
        return await moers.post(name, text, visibility=visibility, in_reply_to=parent)

    root = seen.public
    first = await reply("bob", root, "Erste Antwort")
    deep = await reply("alice", first, "Antwort auf die erste")
    second = await reply("carla", root, "Zweite Antwort")
    hidden = await reply("alice", first, "Nur für Folgende", visibility="private")
    deeper = await reply("bob", deep, "Noch tiefer")
    context = (await seen.bob.get(f"/api/v1/statuses/{root.id}/context")).json()
    assert context["ancestors"] == []
    expected = [first.id, deep.id, deeper.id, hidden.id, second.id]
    assert [item["id"] for item in context["descendants"]] == [str(i) for i in expected]
    outsider = (await seen.carla.get(f"/api/v1/statuses/{root.id}/context")).json()
    assert str(hidden.id) not in [item["id"] for item in outsider["descendants"]]
    anonymous = (await moers.client.get(f"/api/v1/statuses/{root.id}/context")).json()
    assert str(hidden.id) not in [item["id"] for item in anonymous["descendants"]]
    above = (await seen.bob.get(f"/api/v1/statuses/{deeper.id}/context")).json()
    assert [item["id"] for item in above["ancestors"]] == [str(root.id), str(first.id), str(deep.id)]
    await mute(moers, "bob", "carla")
    muted = (await seen.bob.get(f"/api/v1/statuses/{root.id}/context")).json()
    assert str(second.id) not in [item["id"] for item in muted["descendants"]]


@pytest.mark.postgres
async def test_threads_polls_and_lists_run_on_postgresql(tmp_path: Path, fresh_postgres_url: str) -> None:
    async with start_city(tmp_path / "moers", "moers.test", database_url=fresh_postgres_url) as city:
        seen = await audience(city)
        posted = (await seen.alice.post("/api/v1/statuses", status="Umfrage", visibility="private",
                                        poll={"options": ["a", "b"], "expires_in": 600})).json()
        reply = (await seen.bob.post("/api/v1/statuses", status="@alice a", in_reply_to_id=posted["id"])).json()
        answer = (await seen.alice.post("/api/v1/statuses", status="Danke", in_reply_to_id=reply["id"])).json()
        context = (await seen.bob.get(f"/api/v1/statuses/{reply['id']}/context")).json()
        assert [s["id"] for s in context["ancestors"]] == [posted["id"]]
        assert [s["id"] for s in context["descendants"]] == [answer["id"]]
        assert (await seen.bob.post(f"/api/v1/polls/{posted['poll']['id']}/votes", choices=["0"])).status_code == 200
        await seen.bob.post(f"/api/v1/statuses/{posted['id']}/favourite")
        assert [a["username"] for a in (await seen.alice.get(f"/api/v1/statuses/{posted['id']}/favourited_by")).json()] \
            == ["bob"]
        assert await seen.carla.ids("/api/v1/statuses", **{"id[]": [posted["id"], answer["id"]]}) == [answer["id"]]
