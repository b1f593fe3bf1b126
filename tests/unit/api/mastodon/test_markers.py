"""Markers: where the reader stopped in home and notifications; versions count the moves."""
from __future__ import annotations

from tests.cities import City
from tests.unit.api.mastodon.social import Reader

MARKERS = "/api/v1/markers"


async def test_markers_are_saved_and_read_in_mastodons_shape(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    assert (await alice.get(MARKERS, **{"timeline[]": ["home", "notifications"]})).json() == {}
    saved = (await alice.post(MARKERS, home={"last_read_id": "103206604258487607"})).json()
    assert set(saved) == {"home"}
    assert saved["home"]["last_read_id"] == "103206604258487607" and saved["home"]["version"] == 0
    assert saved["home"]["updated_at"].endswith("Z") and len(saved["home"]["updated_at"]) == 24
    again = (await alice.post(MARKERS, home={"last_read_id": "103206604258487608"},
                              notifications={"last_read_id": "5"})).json()
    assert again["home"]["version"] == 1 and again["notifications"]["version"] == 0
    both = (await alice.get(MARKERS, **{"timeline[]": ["home", "notifications"]})).json()
    assert both["home"]["last_read_id"] == "103206604258487608" and both["notifications"]["last_read_id"] == "5"
    assert set((await alice.get(MARKERS, **{"timeline[]": "home"})).json()) == {"home"}


async def test_markers_accept_rails_form_fields(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    response = await moers.client.post(MARKERS, data={"notifications[last_read_id]": "42"}, headers=alice.headers)
    assert response.json()["notifications"]["last_read_id"] == "42"


async def test_markers_are_per_account_and_scoped(moers: City) -> None:
    for name in ("alice", "bob"):
        await moers.create_account(name)
    alice, bob = await Reader.of(moers, "alice"), await Reader.of(moers, "bob")
    await alice.post(MARKERS, home={"last_read_id": "7"})
    assert (await bob.get(MARKERS, **{"timeline[]": "home"})).json() == {}
    reader = await Reader.of(moers, "alice", scopes="read:statuses")
    assert (await reader.post(MARKERS, home={"last_read_id": "8"})).status_code == 403
    assert (await alice.post(MARKERS, home={"last_read_id": "x"})).status_code == 400
