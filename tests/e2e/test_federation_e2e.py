"""Two real `fedserver serve` processes on loopback ports federate: follow, Accept, a post arrives.

Each city has its own data dir and port (domains 127.0.0.1:PORT1 and 127.0.0.1:PORT2, --http
--allow-private-network); accounts come from `fedserver account create`, posts from `fedserver
status post`, the follow from tests/e2e/two_cities.py. Every wait is bounded (two_cities.WAIT_SECONDS).
"""
from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import free_port
from tests.e2e.two_cities import (
    CityDir, create_account, follow, follow_states, remote_texts, run, serving, wait_until, working,
)

pytestmark = pytest.mark.e2e
AP = {"Accept": "application/activity+json"}


def two_cities(tmp_path: Path) -> tuple[CityDir, CityDir]:
    first = CityDir(tmp_path / "city1", free_port())
    second = CityDir(tmp_path / "city2", free_port())
    assert first.port != second.port
    return first, second


def follow_across(city1: CityDir, city2: CityDir) -> None:
    """bob of city 2 follows alice of city 1, and both cities agree that the follow was accepted."""
    create_account(city1, "alice")
    create_account(city2, "bob")
    follow(city2, "bob", city1.handle("alice"))
    wait_until("city 2 to record alice's Accept", lambda: follow_states(city2) == ["accepted"])
    assert follow_states(city1) == ["accepted"]


def test_a_post_reaches_a_follower_on_another_server(tmp_path: Path) -> None:
    city1, city2 = two_cities(tmp_path)
    with serving(city1) as server1, serving(city2) as server2:
        follow_across(city1, city2)
        followers = httpx.get(f"{city1.base_url}/users/alice/followers", headers=AP, timeout=10).json()
        assert followers["totalItems"] == 1

        started = time.monotonic()
        run(city1, "status", "post", "alice", "Hallo aus Stadt 1 #Nachbarschaft")
        texts = wait_until("the post to arrive in city 2", lambda: remote_texts(city2))
        arrived_after = time.monotonic() - started
        assert len(texts) == 1 and "Hallo aus Stadt 1" in texts[0]
        [(ap_id, visibility)] = city2.rows("SELECT ap_id, visibility FROM statuses WHERE is_local = 0")
        assert ap_id.startswith(f"{city1.base_url}/users/alice/statuses/") and visibility == "public"
        # City 2 holds alice's actor from city 1, with her key, and nothing of its own was sent back.
        assert city2.rows("SELECT domain FROM actors WHERE username = 'alice'") == [(city1.domain,)]
        assert remote_texts(city1) == []
        assert "Traceback" not in server1.log() + server2.log()
    # The workers poll every second at most, so a post crosses within a few seconds, not at a retry.
    assert arrived_after < 10, f"the post took {arrived_after:.1f} s"


def test_fedserver_worker_delivers_while_the_server_is_stopped(tmp_path: Path) -> None:
    """`fedserver worker` runs the queue workers of a city without its HTTP server."""
    city1, city2 = two_cities(tmp_path)
    with serving(city2):
        with serving(city1):
            follow_across(city1, city2)
        # City 1's server is stopped. City 2 already holds alice's key (fetched for the follow, within
        # the last minutes), and the Create carries its Note, so city 2 needs nothing from city 1.
        run(city1, "status", "post", "alice", "Zugestellt vom Worker")
        [(state, attempts)] = city1.rows("SELECT state, attempts FROM deliveries WHERE state = 'pending'")
        assert attempts == 0
        with working(city1) as worker:
            texts = wait_until("the worker's delivery to arrive in city 2", lambda: remote_texts(city2))
            assert len(texts) == 1 and "Zugestellt vom Worker" in texts[0]
            wait_until("city 1 to record the delivery as sent",
                       lambda: city1.rows("SELECT state FROM deliveries WHERE state = 'pending'") == [])
            assert worker.process.poll() is None  # a worker runs until it is told to stop
            with pytest.raises(httpx.TransportError):
                httpx.get(f"{city1.base_url}/.well-known/nodeinfo", timeout=2)  # and serves no HTTP
        assert worker.process.returncode == 0, worker.log()
        assert "stopped" in worker.log() and "Traceback" not in worker.log()
