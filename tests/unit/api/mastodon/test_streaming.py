"""Streaming API: stream events written with the change, one poller per process, real WebSockets and SSE.

The WebSocket and event-stream tests serve the city's app with uvicorn on a loopback port and talk
to it with the `websockets` package and httpx, as a client app would.
"""
from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from fedserver import housekeeping
from fedserver.api.mastodon.streaming.channels import Viewer
from fedserver.api.mastodon.streaming.hub import Event, Hub, Listener, new_queue
from fedserver.api.mastodon.streaming.render import render_batch
from fedserver.db import utcnow
from fedserver.ids import new_id
from fedserver.local import accounts, boosts, follows, likes, statuses
from fedserver.local.models.clients import Filter, FilterKeyword, List, ListMember
from fedserver.local.models.statuses import Status
from fedserver.local.models.streams import StreamEvent
from tests.api_clients import token_for
from tests.cities import City, start_city

WAIT = 10.0  # seconds any single expected message may take; the poller runs every 0.05 s here


async def _follow(city: City, follower: str, target: str) -> None:
    async with city.site.sessions() as session, session.begin():
        first = await accounts.find_by_username(session, follower)
        second = await accounts.find_by_username(session, target)
        await follows.request(session, city.site.urls, first.actor, second.actor, now=utcnow())


async def _streams_of(city: City, status_id: int, event: str = "update") -> set[str]:
    async with city.site.sessions() as session:
        rows = await session.scalars(select(StreamEvent.stream).where(StreamEvent.object_id == status_id,
                                                                       StreamEvent.event == event))
        return set(rows.all())


async def _actor_id(city: City, username: str) -> int:
    async with city.site.sessions() as session:
        return (await accounts.find_by_username(session, username)).actor.id


@pytest.fixture
async def town(moers: City) -> City:
    """alice posts; bob follows her; carla follows nobody."""
    for name in ("alice", "bob", "carla"):
        await moers.create_account(name)
    await _follow(moers, "bob", "alice")
    moers.app.state.streaming.interval = 0.05
    return moers


# --- what is written -------------------------------------------------------------------------


async def test_public_post_goes_to_public_tag_and_home_streams(town: City) -> None:
    status = await town.post("alice", "Frühling am #Moerser Schloss")
    alice, bob = await _actor_id(town, "alice"), await _actor_id(town, "bob")
    assert await _streams_of(town, status.id) == {
        "public", "public:local", "hashtag:moerser", "hashtag:moerser:local", f"user:{alice}", f"user:{bob}"}


async def test_followers_only_post_is_written_for_followers_alone(town: City) -> None:
    status = await town.post("alice", "nur für euch #moers", visibility="private")
    alice, bob = await _actor_id(town, "alice"), await _actor_id(town, "bob")
    assert await _streams_of(town, status.id) == {f"user:{alice}", f"user:{bob}"}


async def test_direct_post_is_a_conversation_event_for_author_and_mentioned(town: City) -> None:
    status = await town.post("alice", "@carla psst", visibility="direct")
    alice, carla = await _actor_id(town, "alice"), await _actor_id(town, "carla")
    assert await _streams_of(town, status.id) == {f"user:{alice}"}  # carla does not follow alice
    assert await _streams_of(town, status.id, "conversation") == {f"direct:{alice}", f"direct:{carla}"}
    listener = Listener(frozenset({f"direct:{carla}"}), ("direct",), new_queue())
    batch = [(listener, Event(new_id(), f"direct:{carla}", "conversation", status.id, ""))]
    async with town.site.sessions() as session:
        as_carla = await accounts.find_by_username(session, "carla")
        as_bob = await accounts.find_by_username(session, "bob")
        sent = await render_batch(session, town.site.urls, Viewer(as_carla, ("read",)), batch)
        assert await render_batch(session, town.site.urls, Viewer(as_bob, ("read",)), batch) == []
    conversation = json.loads(sent[0][2])
    assert conversation["last_status"]["id"] == str(status.id)
    assert [account["username"] for account in conversation["accounts"]] == ["alice"]


async def test_reply_reaches_only_followers_who_also_follow_the_one_replied_to(town: City) -> None:
    to_carla = await town.post("carla", "Wer kennt einen Bäcker?")

    async def reply() -> Status:
        async with town.site.sessions() as session, session.begin():
            alice = (await accounts.find_by_username(session, "alice")).actor
            return await statuses.create(session, town.site.urls, alice, "@carla Bäckerei Kamps!",
                                         in_reply_to=await session.get(Status, to_carla.id), now=utcnow())

    bob = await _actor_id(town, "bob")
    assert f"user:{bob}" not in await _streams_of(town, (await reply()).id)  # bob does not follow carla
    await _follow(town, "bob", "carla")
    assert f"user:{bob}" in await _streams_of(town, (await reply()).id)  # now he follows both (Mastodon's rule)


async def test_list_stream_gets_posts_of_members_the_owner_follows(town: City) -> None:
    async with town.site.sessions() as session, session.begin():
        bob = await accounts.find_by_username(session, "bob")
        listed = List(account_id=bob.id, title="Nachbarn")
        session.add(listed)
        await session.flush()
        session.add(ListMember(list_id=listed.id, actor_id=(await accounts.find_by_username(session, "alice")).actor.id))
    status = await town.post("alice", "Straßenfest am Samstag")
    assert f"list:{listed.id}" in await _streams_of(town, status.id)


async def test_boost_and_unboost_go_to_the_boosters_followers(town: City) -> None:
    await _follow(town, "carla", "bob")
    status = await town.post("alice", "Bitte teilen: Fundkatze am Altmarkt")
    async with town.site.sessions() as session, session.begin():
        bob = (await accounts.find_by_username(session, "bob")).actor
        row = await boosts.boost(session, town.site.urls, bob, status, now=utcnow())
    carla = await _actor_id(town, "carla")
    assert f"user:{carla}" in await _streams_of(town, row.id)
    assert "public" not in await _streams_of(town, row.id)  # boosts are not news on public streams
    async with town.site.sessions() as session, session.begin():
        await boosts.unboost(session, town.site.urls, bob, status, now=utcnow())
        deleted = (await session.scalars(select(StreamEvent.stream).where(
            StreamEvent.event == "delete", StreamEvent.payload == str(row.id)))).all()
    assert f"user:{carla}" in deleted


async def test_housekeeping_prunes_events_older_than_an_hour(town: City) -> None:
    await town.post("alice", "Guten Morgen")
    later = utcnow() + timedelta(hours=2)
    await housekeeping.tidy(town.site.sessions, since=later, now=later)
    async with town.site.sessions() as session:
        assert await session.scalar(select(func.count(StreamEvent.id))) == 0


# --- the hub ---------------------------------------------------------------------------------


async def test_hub_hands_each_event_once_to_the_listeners_of_its_stream(town: City) -> None:
    hub = Hub(town.site.sessions)
    public, local = Listener(frozenset({"public"}), ("public",), new_queue()), \
        Listener(frozenset({"hashtag:nothing"}), ("hashtag", "nothing"), new_queue())
    hub.join(public)
    hub.join(local)
    status = await town.post("alice", "Hallo Moers")
    assert await hub.poll_once() == 1
    assert await hub.poll_once() == 0  # the window is re-read, the event is not handed out again
    listener, event = public.queue.get_nowait()  # type: ignore[misc]
    assert (listener, event.event, event.object_id) == (public, "update", status.id)
    assert local.queue.empty()


async def test_hub_still_hands_out_an_event_committed_after_a_newer_one(town: City) -> None:
    hub = Hub(town.site.sessions)
    listener = Listener(frozenset({"public"}), ("public",), new_queue())
    hub.join(listener)
    late_id = new_id()  # taken first, committed last (several writers on PostgreSQL)
    await town.post("alice", "zuerst sichtbar")
    assert await hub.poll_once() == 1
    async with town.site.sessions() as session, session.begin():
        session.add(StreamEvent(id=late_id, stream="public", event="delete", payload="1"))
    assert await hub.poll_once() == 1


async def test_hub_does_not_replay_events_from_before_a_listener_joined(town: City) -> None:
    await town.post("alice", "vorher")
    hub = Hub(town.site.sessions)
    listener = Listener(frozenset({"public"}), ("public",), new_queue())
    hub.join(listener)
    assert await hub.poll_once() == 0


async def test_rendered_update_is_the_status_as_that_viewer_sees_it(town: City) -> None:
    status = await town.post("alice", "Schöne Aussicht vom Halde Rheinpreußen")
    async with town.site.sessions() as session, session.begin():
        bob = await accounts.find_by_username(session, "bob")
        await likes.like(session, town.site.urls, bob.actor, status, now=utcnow())
    listener = Listener(frozenset({"public"}), ("public",), new_queue())
    event = Event(new_id(), "public", "update", status.id, "")
    async with town.site.sessions() as session:
        bob = await accounts.find_by_username(session, "bob")
        carla = await accounts.find_by_username(session, "carla")
        for_bob = await render_batch(session, town.site.urls, Viewer(bob, ("read",)), [(listener, event)])
        for_carla = await render_batch(session, town.site.urls, Viewer(carla, ("read",)), [(listener, event)])
    assert json.loads(for_bob[0][2])["favourited"] is True
    assert json.loads(for_carla[0][2])["favourited"] is False


async def test_rendering_drops_a_followers_only_post_for_anyone_outside_its_audience(town: City) -> None:
    status = await town.post("alice", "privat", visibility="private")
    listener = Listener(frozenset({"public"}), ("public",), new_queue())
    batch = [(listener, Event(new_id(), "public", "update", status.id, ""))]
    async with town.site.sessions() as session:
        carla = await accounts.find_by_username(session, "carla")
        bob = await accounts.find_by_username(session, "bob")
        assert await render_batch(session, town.site.urls, Viewer(carla, ("read",)), batch) == []
        assert len(await render_batch(session, town.site.urls, Viewer(bob, ("read",)), batch)) == 1


async def test_a_hide_filter_keeps_a_post_off_the_streams_of_its_context(town: City) -> None:
    status = await town.post("alice", "Großes Tatort-Finale heute")
    async with town.site.sessions() as session, session.begin():
        bob = await accounts.find_by_username(session, "bob")
        rule = Filter(account_id=bob.id, title="Krimis", contexts="public", action="hide")
        session.add(rule)
        await session.flush()
        session.add(FilterKeyword(filter_id=rule.id, keyword="Tatort", whole_word=False))
    public = Listener(frozenset({"public"}), ("public",), new_queue())
    home = Listener(frozenset({f"user:{bob.actor.id}"}), ("user",), new_queue())
    batch = [(public, Event(new_id(), "public", "update", status.id, "")),
             (home, Event(new_id(), f"user:{bob.actor.id}", "update", status.id, ""))]
    async with town.site.sessions() as session:
        bob = await accounts.find_by_username(session, "bob")
        sent = await render_batch(session, town.site.urls, Viewer(bob, ("read",)), batch)
    assert [listener for listener, _, _ in sent] == [home]  # the filter is for public timelines only


# --- real connections ------------------------------------------------------------------------


@asynccontextmanager
async def _serving(city: City) -> AsyncIterator[str]:
    """The city's app behind uvicorn on a loopback port (its lifespan already runs); yields host:port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(city.app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:
                await asyncio.sleep(0.01)
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, WAIT)
        sock.close()


async def _message(ws: ClientConnection) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    assert isinstance(message, dict)
    return message


async def test_websocket_echoes_the_token_subprotocol_and_streams_home_updates(town: City) -> None:
    token = await token_for(town, "bob", "read")
    async with _serving(town) as host, connect(f"ws://{host}/api/v1/streaming?stream=user",
                                               subprotocols=[token]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == token  # masto.js (Elk, Phanpy) hangs up without the echo (CLIENTS.md)
        await _wait_until_listening(town, 1)
        status = await town.post("alice", "Hallo Bob")
        message = await _message(ws)
    assert message["stream"] == ["user"] and message["event"] == "update"
    payload = json.loads(message["payload"])  # a JSON document inside a string, as Mastodon sends it
    assert payload["id"] == str(status.id) and payload["account"]["username"] == "alice"


async def test_followers_only_post_never_reaches_a_stranger_on_any_stream(town: City) -> None:
    token = await token_for(town, "carla", "read")
    async with _serving(town) as host, connect(f"ws://{host}/api/v1/streaming?access_token={token}") as ws:
        for subscription in ({"stream": "public"}, {"stream": "hashtag", "tag": "Moers"}, {"stream": "user"},
                             {"stream": "public:local"}):
            await ws.send(json.dumps({"type": "subscribe", **subscription}))
        await _wait_until_listening(town, 4)
        await town.post("alice", "geheim #moers", visibility="private")
        await town.post("alice", "@bob auch geheim #moers", visibility="direct")
        public = await town.post("alice", "öffentlich #moers")
        received = [await _message(ws) for _ in range(3)]  # public, public:local and the tag: nothing else
    assert {json.loads(message["payload"])["id"] for message in received} == {str(public.id)}
    assert sorted(tuple(message["stream"]) for message in received) == [
        ("hashtag", "Moers"), ("public",), ("public:local",)]


async def test_websocket_unsubscribe_and_refusals(town: City) -> None:
    token = await token_for(town, "bob", "read")
    async with _serving(town) as host, connect(f"ws://{host}/api/v1/streaming",
                                               additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        await ws.send(json.dumps({"type": "subscribe", "stream": "nonsense"}))
        assert await _message(ws) == {"error": "Unknown stream type", "status": 400}
        await ws.send(json.dumps({"type": "subscribe", "stream": "list", "list": "12345"}))
        assert await _message(ws) == {"error": "Not authorized to stream this list", "status": 401}
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "moers"}))
        await ws.send(json.dumps({"type": "subscribe", "stream": "public"}))
        await _wait_until_listening(town, 2)
        await ws.send(json.dumps({"type": "unsubscribe", "stream": "hashtag", "tag": "moers"}))
        await _wait_until_listening(town, 1)
        status = await town.post("alice", "#moers")
        message = await _message(ws)
        async with town.site.sessions() as session, session.begin():
            alice = (await accounts.find_by_username(session, "alice")).actor
            await statuses.delete(session, town.site.urls, await session.get(Status, status.id), alice, now=utcnow())
        deleted = await _message(ws)
    assert message["stream"] == ["public"]
    assert deleted == {"stream": ["public"], "event": "delete", "payload": str(status.id)}


async def test_websocket_refuses_a_bad_token_with_401(town: City) -> None:
    async with _serving(town) as host:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://{host}/api/v1/streaming?stream=public&access_token=wrong"):
                pass
    assert refused.value.response.status_code == 401


async def test_notification_stream_needs_its_scope(town: City) -> None:
    token = await token_for(town, "alice", "read:statuses")
    async with _serving(town) as host, connect(f"ws://{host}/api/v1/streaming?access_token={token}") as ws:
        await ws.send(json.dumps({"type": "subscribe", "stream": "user:notification"}))
        assert await _message(ws) == {"error": "Access token does not have the required scopes", "status": 401}


async def test_server_sent_events_stream_notifications_and_health(town: City) -> None:
    token = await token_for(town, "alice", "read")
    async with _serving(town) as host, httpx.AsyncClient(base_url=f"http://{host}", timeout=WAIT) as client:
        assert (await client.get("/api/v1/streaming/health")).text == "OK"
        assert (await client.get("/api/v1/streaming/user")).status_code == 401
        async with client.stream("GET", "/api/v1/streaming/user/notification",
                                 headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.aiter_lines()
            assert await anext(lines) == ":)"
            await town.post("bob", "@alice kommst du heute?")
            event = [await anext(lines), await anext(lines)]
    assert event[0] == "event: notification"
    notification = json.loads(event[1].removeprefix("data: "))
    assert notification["type"] == "mention" and notification["account"]["username"] == "bob"
    assert notification["status"]["content"].count("kommst du heute?") == 1


async def _wait_until_listening(city: City, count: int) -> None:
    """Subscriptions are made by the server after it reads the message: wait until the hub has them."""
    hub: Hub = city.app.state.streaming
    async with asyncio.timeout(WAIT):
        while len(hub.listeners) != count:
            await asyncio.sleep(0.01)


@pytest.mark.postgres
async def test_events_are_written_and_polled_on_postgresql(tmp_path: Path, fresh_postgres_url: str) -> None:
    async with start_city(tmp_path / "moers", "moers.test", database_url=fresh_postgres_url) as city:
        for name in ("alice", "bob"):
            await city.create_account(name)
        await _follow(city, "bob", "alice")
        bob = await _actor_id(city, "bob")
        hub = Hub(city.site.sessions)
        home = Listener(frozenset({f"user:{bob}"}), ("user",), new_queue())
        hub.join(home)
        status = await city.post("alice", "Hallo aus Postgres #moers")
        assert await hub.poll_once() == 1
        assert home.queue.get_nowait()[1].object_id == status.id  # type: ignore[index]
