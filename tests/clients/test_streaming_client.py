"""Streaming against a real `fedserver serve`: a WebSocket client the way masto.js connects, and
Mastodon.py's server-sent-event listener. Posts are made by `fedserver status post`, another process,
so every event crosses processes through the database, as with several server workers."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.clients.listeners import Collector
from tests.clients.live_city import WAIT, city_env, next_message, signed_in_resident
from tests.e2e.servers import run_cli, serve

pytestmark = pytest.mark.e2e


def _post(env: dict[str, str], username: str, text: str, visibility: str = "public") -> None:
    posted = run_cli(["status", "post", username, text, "--visibility", visibility], env)
    assert posted.returncode == 0, posted.stderr


def test_websocket_streams_posts_made_by_another_process(tmp_path: Path) -> None:
    with serve(tmp_path / "moers") as server:
        env = city_env(tmp_path, server)
        anna, ben = signed_in_resident(env, server, "anna"), signed_in_resident(env, server, "ben")
        url = server.base_url.replace("http://", "ws://") + "/api/v1/streaming"
        with connect(f"{url}?stream=user", subprotocols=[anna.access_token], open_timeout=WAIT) as home, \
                connect(f"{url}?access_token={ben.access_token}", open_timeout=WAIT) as public:
            assert home.subprotocol == anna.access_token  # masto.js sends the token there (CLIENTS.md)
            public.send(json.dumps({"type": "subscribe", "stream": "public:local"}))
            public.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "moers"}))
            _post(env, "anna", "Nur für meine Follower #moers", "private")
            _post(env, "anna", "Heute Markt in #Moers")
            own = [next_message(home), next_message(home)]
            seen_by_ben = [next_message(public), next_message(public)]
    assert [m["event"] for m in own] == ["update", "update"]  # her own posts, both, in her home
    assert json.loads(own[0]["payload"])["visibility"] == "private"
    # The followers-only post came first, but ben (no follower) only ever gets the public one.
    assert sorted(tuple(m["stream"]) for m in seen_by_ben) == [("hashtag", "moers"), ("public:local",)]
    assert {json.loads(m["payload"])["content"].count("Markt") for m in seen_by_ben} == {1}


def test_mastodon_py_stream_user_hears_a_post_and_a_mention(tmp_path: Path) -> None:
    listener, handle = Collector(), None
    try:
        with serve(tmp_path / "moers") as server:
            env = city_env(tmp_path, server)
            anna = signed_in_resident(env, server, "anna")
            signed_in_resident(env, server, "ben")
            # reconnect_async: the server going away below is expected, not an error in the thread.
            handle = anna.stream_user(listener, run_async=True, timeout=WAIT, reconnect_async=True,
                                      reconnect_async_wait_sec=1)
            _post(env, "anna", "Guten Morgen, Moers!")
            _post(env, "ben", "@anna kommst du zum Schlossfest?")
            assert listener.both.wait(WAIT), (listener.updates, listener.notifications)
            # Leaving the block stops the server with the stream still open: it must end it, not hang.
        assert server.process.returncode == 0, server.log()
    finally:
        if handle is not None:  # the client only notices a close at the next byte: close after the server
            handle.close()
            handle.join(WAIT)
    assert listener.updates[0].content.count("Guten Morgen") == 1
    assert listener.notifications[0].type == "mention"
    assert listener.notifications[0].account.username == "ben"
