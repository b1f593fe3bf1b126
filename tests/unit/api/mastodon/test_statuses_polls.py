"""Polls: posting one (form and JSON), the Poll entity, voting once, the limits Mastodon sets, editing a
poll, the Question on the wire, and the notifications when a poll ends."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from fedserver.db import utcnow
from fedserver.local import poll_votes
from fedserver.local.models.polls import Poll
from tests.cities import City
from tests.unit.api.mastodon.social import Reader
from tests.unit.api.mastodon.statuses_support import audience, notification_kinds

POLL_KEYS = {"id", "expires_at", "expired", "multiple", "votes_count", "voters_count", "options", "emojis",
             "voted", "own_votes"}


async def _poll(reader: Reader, options: list[str], expires_in: Any = 3600, multiple: bool = False,
                **extra: Any) -> dict[str, Any]:
    response = await reader.post("/api/v1/statuses", status="Wohin?",
                                 poll={"options": options, "expires_in": expires_in, "multiple": multiple}, **extra)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_poll_from_a_form_as_mastodon_py_sends_it(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    form = {"status": "Rathaus oder Park?", "poll[options][]": ["Rathaus", "Park"], "poll[expires_in]": "86400",
            "poll[multiple]": "true"}
    response = await moers.client.post("/api/v1/statuses", data=form, headers=alice.headers)
    assert response.status_code == 200, response.text
    poll = response.json()["poll"]
    assert set(poll) == POLL_KEYS
    assert poll["options"] == [{"title": "Rathaus", "votes_count": 0}, {"title": "Park", "votes_count": 0}]
    assert poll["multiple"] is True and poll["expired"] is False and poll["votes_count"] == 0
    assert poll["voters_count"] == 0 and poll["voted"] is True and poll["own_votes"] == []  # the author's own poll
    assert isinstance(poll["id"], str) and poll["expires_at"].endswith("Z")


async def test_poll_limits(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    bad = [(["nur eine"], 3600), (["a", "b", "c", "d", "e"], 3600), (["gleich", "gleich"], 3600),
           (["x" * 51, "b"], 3600), (["a", "b"], 299), (["a", "b"], 2_629_747), (["a", "b"], "bald"),
           (["a", ""], 3600)]
    for options, expires_in in bad:
        response = await alice.post("/api/v1/statuses", status="?", poll={"options": options, "expires_in": expires_in})
        assert response.status_code == 422, (options, expires_in, response.text)
    assert (await alice.post("/api/v1/statuses", status="?", poll={"options": "a"})).status_code == 422
    assert (await alice.post("/api/v1/statuses", status="?", poll={"options": [1, 2], "expires_in": 600})
            ).status_code == 422
    ok = await alice.post("/api/v1/statuses", status="", poll={"options": ["a", "b"], "expires_in": 300})
    assert ok.status_code == 200  # a poll needs no text


async def test_vote_once_and_counts(moers: City) -> None:
    seen = await audience(moers)
    status = await _poll(seen.alice, ["Ja", "Nein", "Egal"])
    path = f"/api/v1/polls/{status['poll']['id']}"
    voted = await seen.bob.post(f"{path}/votes", choices=["1"])
    assert voted.status_code == 200, voted.text
    poll = voted.json()
    assert poll["voted"] is True and poll["own_votes"] == [1] and poll["votes_count"] == 1
    assert [o["votes_count"] for o in poll["options"]] == [0, 1, 0] and poll["voters_count"] == 1
    again = await seen.bob.post(f"{path}/votes", choices=["0"])
    assert again.status_code == 422 and again.json()["error"].endswith("You have already voted on this poll")
    own = await seen.alice.post(f"{path}/votes", choices=["0"])
    assert own.status_code == 422 and "own polls" in own.json()["error"]
    for choices in ([], ["3"], ["-1"], ["x"], ["0", "1"]):
        assert (await seen.carla.post(f"{path}/votes", choices=choices)).status_code == 422, choices
    assert (await (await Reader.of(moers, "carla", "read")).post(f"{path}/votes", choices=["0"])).status_code == 403
    assert (await moers.client.post(f"{path}/votes", json={"choices": ["0"]})).status_code == 401
    anonymous = (await moers.client.get(path)).json()
    assert "voted" not in anonymous and "own_votes" not in anonymous  # as Mastodon: only for a signed-in viewer
    assert (await seen.carla.get(f"/api/v1/statuses/{status['id']}")).json()["poll"]["voted"] is False


async def test_multiple_choice_and_expiry(moers: City) -> None:
    seen = await audience(moers)
    status = await _poll(seen.alice, ["Mo", "Di", "Mi"], multiple=True)
    path = f"/api/v1/polls/{status['poll']['id']}"
    poll = (await seen.bob.post(f"{path}/votes", choices=[0, 2])).json()
    assert poll["own_votes"] == [0, 2] and poll["votes_count"] == 2 and poll["voters_count"] == 1
    assert (await seen.carla.post(f"{path}/votes", choices=["1", "1"])).status_code == 422
    async with moers.site.sessions() as session, session.begin():
        await session.execute(update(Poll).values(expires_at=utcnow() - timedelta(minutes=1)))
    ended = await seen.carla.post(f"{path}/votes", choices=["1"])
    assert ended.status_code == 422 and "ended" in ended.json()["error"]
    assert (await seen.carla.get(path)).json()["expired"] is True


async def test_polls_of_hidden_posts_answer_404(moers: City) -> None:
    seen = await audience(moers)
    private = await _poll(seen.alice, ["a", "b"], visibility="private")
    path = f"/api/v1/polls/{private['poll']['id']}"
    assert (await seen.carla.get(path)).status_code == 404
    assert (await moers.client.get(path)).status_code == 404
    assert (await seen.carla.post(f"{path}/votes", choices=["0"])).status_code == 404
    assert (await seen.bob.post(f"{path}/votes", choices=["0"])).status_code == 200
    assert (await seen.bob.get("/api/v1/polls/12345")).status_code == 404
    assert (await seen.bob.get("/api/v1/polls/abc")).status_code == 404


async def test_editing_the_options_starts_the_poll_afresh(moers: City) -> None:
    seen = await audience(moers)
    status = await _poll(seen.alice, ["a", "b"])
    await seen.bob.post(f"/api/v1/polls/{status['poll']['id']}/votes", choices=["0"])
    path = f"/api/v1/statuses/{status['id']}"
    same = (await seen.alice.put(path, status="Wohin?", poll={"options": ["a", "b"], "expires_in": 7200})).json()
    assert same["poll"]["votes_count"] == 1  # same options: votes kept, only the end moves
    changed = (await seen.alice.put(path, status="Wohin?", poll={"options": ["a", "c"], "expires_in": 7200})).json()
    assert changed["poll"]["votes_count"] == 0 and changed["poll"]["options"][1]["title"] == "c"
    assert (await seen.alice.put(path, status="Doch keine Umfrage")).json()["poll"] is None
    history = (await seen.bob.get(f"{path}/history")).json()
    assert "poll" not in history[-1]


async def test_a_local_poll_is_a_question_on_the_wire(moers: City) -> None:
    seen = await audience(moers)
    status = await _poll(seen.alice, ["Rad", "Bus"])
    await seen.bob.post(f"/api/v1/polls/{status['poll']['id']}/votes", choices=["0"])
    note = (await moers.client.get(status["uri"], headers={"Accept": "application/activity+json"})).json()
    assert note["type"] == "Question" and "closed" not in note and note["votersCount"] == 1
    assert [(o["name"], o["replies"]["totalItems"]) for o in note["oneOf"]] == [("Rad", 1), ("Bus", 0)]


async def test_voters_and_author_hear_when_a_poll_ends(moers: City) -> None:
    seen = await audience(moers)
    status = await _poll(seen.alice, ["a", "b"])
    await seen.bob.post(f"/api/v1/polls/{status['poll']['id']}/votes", choices=["1"])
    since = utcnow()
    async with moers.site.sessions() as session, session.begin():
        await session.execute(update(Poll).values(expires_at=utcnow()))
    async with moers.site.sessions() as session, session.begin():
        assert await poll_votes.finish_ended(session, moers.site.urls, since=since - timedelta(seconds=1),
                                             now=utcnow()) == 1
    async with moers.site.sessions() as session, session.begin():  # a second round finds it finished
        assert await poll_votes.finish_ended(session, moers.site.urls, since=since - timedelta(seconds=1),
                                             now=utcnow()) == 0
    assert "poll" in await notification_kinds(moers, "bob")
    assert "poll" in await notification_kinds(moers, "alice")
    assert "poll" not in await notification_kinds(moers, "carla")
    note = (await moers.client.get(status["uri"], headers={"Accept": "application/activity+json"})).json()
    assert "closed" in note
