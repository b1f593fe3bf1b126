"""A stream lives no longer than its token: revoking the token (POST /oauth/revoke, as Mastodon.py's
`revoke_access_token` does) or deleting the account ends the open WebSocket and event stream of a
real `fedserver serve` within seconds (the hub re-checks tokens every streaming.hub.REVALIDATE s),
while streams of other tokens go on."""
from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from fedserver.api.mastodon.streaming.hub import REVALIDATE
from tests.clients.live_city import WAIT, city_env, next_message, signed_in_resident
from tests.e2e.servers import serve

pytestmark = pytest.mark.e2e
CLOSED_WITHIN = REVALIDATE + 3.0  # one check interval, one poll and the round trips


def _seconds_until_closed(ws: ClientConnection, since: float) -> tuple[float, int | None, list[str]]:
    """Read until the server closes the socket (bounded); how long after `since`, the close code, what came."""
    received: list[str] = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            received.append(str(ws.recv(timeout=WAIT)))
    return time.monotonic() - since, closed.value.rcvd.code if closed.value.rcvd else None, received


def test_revoking_a_token_ends_its_websocket_and_event_stream(tmp_path: Path) -> None:
    with serve(tmp_path / "moers") as server:
        anna, carla = signed_in_resident(city_env(tmp_path, server), server, "anna"), signed_in_resident(city_env(tmp_path, server), server, "carla")
        token = anna.access_token
        url = server.base_url.replace("http://", "ws://") + "/api/v1/streaming"
        with connect(f"{url}?stream=user", subprotocols=[token], open_timeout=WAIT) as home, \
                connect(f"{url}?stream=public:local&access_token={carla.access_token}", open_timeout=WAIT) as other, \
                httpx.Client(base_url=server.base_url, timeout=WAIT) as http, \
                http.stream("GET", "/api/v1/streaming/user", headers={"Authorization": f"Bearer {token}"}) as sse:
            lines = sse.iter_lines()
            assert next(lines) == ":)"
            anna.status_post("Gleich melde ich mich ab")
            assert next_message(home)["event"] == "update"  # the stream works before the token goes
            assert next_message(other)["event"] == "update"

            revoked_at = time.monotonic()
            anna.revoke_access_token(allow_http=True)
            home_after, code, after_revocation = _seconds_until_closed(home, revoked_at)
            sse_rest = list(lines)  # ends when the server ends the response (read timeout: WAIT)
            sse_after = time.monotonic() - revoked_at

            carla.status_post("Ich bin noch da")  # another token's stream goes on
            assert json.loads(next_message(other)["payload"])["content"].count("noch da") == 1
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{url}?stream=user", subprotocols=[token], open_timeout=WAIT)
        assert httpx.get(f"{server.base_url}/api/v1/streaming/user", timeout=WAIT,
                         headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert "Traceback" not in server.log()
    assert code == 1008 and after_revocation == []
    assert home_after < CLOSED_WITHIN, f"the WebSocket stayed open {home_after:.1f} s after the revocation"
    assert sse_after < CLOSED_WITHIN, f"the event stream stayed open {sse_after:.1f} s after the revocation"
    assert [line for line in sse_rest if line.startswith("event:")] in ([], ["event: update"])
    assert refused.value.response.status_code == 401


def test_deleting_the_account_ends_its_open_stream(tmp_path: Path) -> None:
    with serve(tmp_path / "moers") as server:
        ben = signed_in_resident(city_env(tmp_path, server), server, "ben")
        url = server.base_url.replace("http://", "ws://") + "/api/v1/streaming"
        with connect(f"{url}?access_token={ben.access_token}", open_timeout=WAIT) as ws:
            ws.send(json.dumps({"type": "subscribe", "stream": "user"}))
            ben.status_post("Tschüss, Moers")
            assert next_message(ws)["event"] == "update"
            deleted_at = time.monotonic()
            deleted = httpx.post(f"{server.base_url}/api/v1/fedserver/accounts/delete", timeout=WAIT,
                                 data={"password": "long-password-1"},
                                 headers={"Authorization": f"Bearer {ben.access_token}"})
            assert deleted.status_code == 200, deleted.text
            seconds, code, received = _seconds_until_closed(ws, deleted_at)
        assert "Traceback" not in server.log()
    assert code == 1008 and seconds < CLOSED_WITHIN, (code, seconds, received)
