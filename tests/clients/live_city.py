"""Residents of a real `fedserver serve` process for the streaming tests: the CLI's environment, an account
signed in with Mastodon.py, and the next JSON message of a streaming WebSocket."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mastodon import Mastodon
from websockets.sync.client import ClientConnection

from tests.e2e.servers import Server, run_cli

PASSWORD = "long-password-1"
WAIT = 20.0  # seconds any expected event may take on a busy machine (the server polls every 0.5 s)


def city_env(tmp_path: Path, server: Server) -> dict[str, str]:
    """What `fedserver` commands need to act on the served city (its data directory under tmp_path/moers)."""
    domain = server.base_url.removeprefix("http://")
    return {"FEDSERVER_DATA_DIR": str(tmp_path / "moers"), "FEDSERVER_DOMAIN": domain, "FEDSERVER_HTTP": "1"}


def signed_in_resident(env: dict[str, str], server: Server, username: str) -> Mastodon:
    """A new account, signed in with Mastodon.py (password grant); the client keeps its app's id and secret."""
    created = run_cli(["account", "create", username, "--email", f"{username}@example.org", "--password", PASSWORD],
                      env)
    assert created.returncode == 0, created.stderr
    client_id, client_secret = Mastodon.create_app("streaming tests", api_base_url=server.base_url)
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.base_url)
    api.log_in(f"{username}@example.org", PASSWORD, allow_http=True)  # loopback test server
    return api


def next_message(ws: ClientConnection) -> dict[str, Any]:
    message = json.loads(ws.recv(timeout=WAIT))
    assert isinstance(message, dict)
    return message
