"""The accounts inside status pages come from a cache of a few seconds (entities/account_cache.py): what this
process commits shows at once, what another process writes shows once the entries are TTL seconds old."""
from __future__ import annotations

import asyncio
import sqlite3

import pytest

from fedserver.api.mastodon.entities import account_cache
from tests.cities import City
from tests.unit.api.mastodon.social import Reader, follow

HOME = "/api/v1/timelines/home"


async def _bob_in_home(alice: Reader) -> dict[str, object]:
    response = await alice.get(HOME)
    assert response.status_code == 200, response.text
    account: dict[str, object] = response.json()[0]["account"]
    assert account["username"] == "bob"
    return account


async def test_counts_in_a_page_follow_this_processes_writes_at_once(moers: City) -> None:
    for name in ("alice", "bob", "carla"):
        await moers.create_account(name)
    await follow(moers, "alice", "bob")
    await moers.post("bob", "Erster Beitrag")
    alice = await Reader.of(moers, "alice")
    first = await _bob_in_home(alice)
    assert (first["statuses_count"], first["followers_count"]) == (1, 1)
    await moers.post("bob", "Zweiter Beitrag")
    await follow(moers, "carla", "bob")
    second = await _bob_in_home(alice)
    assert (second["statuses_count"], second["followers_count"]) == (2, 2)


def _rename_from_another_connection(city: City, display_name: str) -> None:
    path = city.site.settings.database_url.removeprefix("sqlite+aiosqlite:///")
    other = sqlite3.connect(path, timeout=30)  # a busy timeout, as fedserver's own connections have
    try:
        with other:
            other.execute("UPDATE actors SET display_name = ? WHERE username = 'bob' AND domain = ''", (display_name,))
    finally:
        other.close()


async def test_another_processes_write_shows_after_the_ttl(moers: City, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("alice", "bob"):
        await moers.create_account(name, display_name="Bob")
    await follow(moers, "alice", "bob")
    await moers.post("bob", "Hallo")
    alice = await Reader.of(moers, "alice")
    clock = [1000.0]
    monkeypatch.setattr(account_cache.time, "monotonic", lambda: clock[0])
    assert (await _bob_in_home(alice))["display_name"] == "Bob"
    # From here on no write of this process may empty the cache (a worker's or the token's last use would,
    # as they should): the test is about what another process's write does.
    frozen = account_cache.commits_seen()
    monkeypatch.setattr(account_cache, "commits_seen", lambda: frozen)
    # Another process (a second worker) renames bob: no commit of this process tells the cache. It runs in a
    # thread: this process's own tasks (the token's last use) may hold the write lock a moment and need the
    # event loop to finish; blocking the loop here would wait for them forever.
    await asyncio.to_thread(_rename_from_another_connection, moers, "Robert")
    clock[0] += account_cache.TTL - 0.5
    assert (await _bob_in_home(alice))["display_name"] == "Bob"  # served from the cache: no query
    clock[0] += 1.0
    assert (await _bob_in_home(alice))["display_name"] == "Robert"
