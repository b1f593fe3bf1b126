"""Streaming against a real `fedserver serve`: a WebSocket client the way masto.js connects, and
Mastodon.py's server-sent-event listener. Posts are made by `fedserver status post`, another process,
so every event crosses processes through the database, as with several server workers."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mastodon import Mastodon
from websockets.sync.client import ClientConnection, connect

from tests.clients.listeners import Collector
from tests.e2e.servers import Server, run_cli, serve

pytestmark = pytest.mark.e2e
WAIT = 20.0  # seconds any expected event may take (the server polls every 0.5 s)


def _env(tmp_path: Path, server: Server) -> dict[str, str]:
    domain = server.base_url.removeprefix("http://")
    return {"FEDSERVER_DATA_DIR": str(tmp_path / "moers"), "FEDSERVER_DOMAIN": domain, "FEDSERVER_HTTP": "1"}


def _resident(env: dict[str, str], server: Server, username: str) -> Mastodon:
    """A new account, signed in with Mastodon.py (password grant)."""
    created = run_cli(["account", "create", username, "--email", f"{username}@example.org",
                       "--password", "long-password-1"], env)
    assert created.returncode == 0, created.stderr
    client_id, client_secret = Mastodon.create_app("streaming tests", api_base_url=server.base_url)
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.base_url)
    api.log_in(f"{username}@example.org", "long-password-1", allow_http=True)  # loopback test server
    return api


def _post(env: dict[str, str], username: str, text: str, visibility: str = "public") -> None:
    posted = run_cli(["status", "post", username, text, "--visibility", visibility], env)
    assert posted.returncode == 0, posted.stderr


def _message(ws: ClientConnection) -> dict[str, Any]:
    message = json.loads(ws.recv(timeout=WAIT))
    assert isinstance(message, dict)
    return message


def test_websocket_streams_posts_made_by_another_process(tmp_path: Path) -> None:
    with serve(tmp_path / "moers") as server:
        env = _env(tmp_path, server)
        anna, ben = _resident(env, server, "anna"), _resident(env, server, "ben")
        url = server.base_url.replace("http://", "ws://") + "/api/v1/streaming"
        with connect(f"{url}?stream=user", subprotocols=[anna.access_token], open_timeout=WAIT) as home, \
                connect(f"{url}?access_token={ben.access_token}", open_timeout=WAIT) as public:
            assert home.subprotocol == anna.access_token  # masto.js sends the token there (CLIENTS.md)
            public.send(json.dumps({"type": "subscribe", "stream": "public:local"}))
            public.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "moers"}))
            _post(env, "anna", "Nur für meine Follower #moers", "private")
            _post(env, "anna", "Heute Markt in #Moers")
            own = [_message(home), _message(home)]
            seen_by_ben = [_message(public), _message(public)]
    assert [m["event"] for m in own] == ["update", "update"]  # her own posts, both, in her home
    assert json.loads(own[0]["payload"])["visibility"] == "private"
    # The followers-only post came first, but ben (no follower) only ever gets the public one.
    assert sorted(tuple(m["stream"]) for m in seen_by_ben) == [("hashtag", "moers"), ("public:local",)]
    assert {json.loads(m["payload"])["content"].count("Markt") for m in seen_by_ben} == {1}


def test_mastodon_py_stream_user_hears_a_post_and_a_mention(tmp_path: Path) -> None:
    listener, handle = Collector(), None
    try:
        with serve(tmp_path / "moers") as server:
            env = _env(tmp_path, server)
            anna = _resident(env, server, "anna")
            _resident(env, server, "ben")
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
