"""A real `fedserver serve --demo` on a loopback port serves valid discovery and ActivityPub documents."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import serve

pytestmark = pytest.mark.e2e
AP = {"Accept": "application/activity+json"}


def test_demo_city_serves_discovery_actor_outbox_and_status(tmp_path: Path) -> None:
    with serve(tmp_path / "moers", "--demo") as server, httpx.Client(base_url=server.base_url, timeout=10) as http:
        domain = server.base_url.removeprefix("http://")
        assert "Demo city seeded" in server.log()
        finger = http.get("/.well-known/webfinger", params={"resource": f"acct:anna@{domain}"}).json()
        actor_url = next(link["href"] for link in finger["links"] if link["rel"] == "self")
        assert actor_url == f"{server.base_url}/users/anna"
        actor = http.get(actor_url, headers=AP).json()
        assert actor["type"] == "Person" and actor["preferredUsername"] == "anna"
        outbox = http.get(actor["outbox"], headers=AP).json()
        assert outbox["totalItems"] == 2
        page = http.get(outbox["first"], headers=AP).json()
        note_id = page["orderedItems"][0]["object"]["id"]
        note = http.get(note_id, headers=AP).json()
        assert note["attributedTo"] == actor_url and "#" in note["content"] or "Moers" in note["content"]
        nodeinfo = http.get("/nodeinfo/2.1").json()
        assert nodeinfo["usage"]["users"]["total"] == 6
        assert http.get("/").status_code == 200 and "Moers" in http.get("/").text


def test_demo_is_seeded_on_first_start_only(tmp_path: Path) -> None:
    with serve(tmp_path / "moers", "--demo") as server:
        first = httpx.get(f"{server.base_url}/nodeinfo/2.0").json()["usage"]["localPosts"]
    with serve(tmp_path / "moers", "--demo") as server:
        assert "Demo city seeded" not in server.log()
        assert httpx.get(f"{server.base_url}/nodeinfo/2.0").json()["usage"]["localPosts"] == first


def test_without_demo_nothing_is_seeded(tmp_path: Path) -> None:
    with serve(tmp_path / "empty") as server:
        assert httpx.get(f"{server.base_url}/nodeinfo/2.0").json()["usage"]["users"]["total"] == 0
