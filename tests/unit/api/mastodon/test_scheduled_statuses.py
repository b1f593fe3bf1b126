"""Scheduled statuses: POST /api/v1/statuses with scheduled_at, the scheduled_statuses endpoints, and the
minute job that publishes them through statuses.create (so they federate and notify)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

from sqlalchemy import func, select

from fedserver import housekeeping
from fedserver.db import utcnow
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.scheduling import ScheduledStatus
from fedserver.local.models.statuses import Status
from fedserver.outbox.published import PublishedActivity
from tests.cities import City
from tests.unit.api.mastodon.social import Reader, follow
from tests.unit.api.mastodon.statuses_support import audience, notification_kinds, upload

STATUSES = "/api/v1/statuses"
SCHEDULED = "/api/v1/scheduled_statuses"
PARAMS_KEYS = {"text", "poll", "media_ids", "sensitive", "spoiler_text", "visibility", "language", "in_reply_to_id",
               "application_id", "scheduled_at", "idempotency", "with_rate_limit"}


def _in(minutes: int) -> str:
    return (utcnow() + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


async def _scheduled_count(city: City) -> int:
    async with city.site.sessions() as session:
        return int(await session.scalar(select(func.count(ScheduledStatus.id))) or 0)


async def test_scheduling_answers_a_scheduled_status_and_posts_nothing_yet(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    when = _in(60)
    response = await alice.post(STATUSES, status="Flohmarkt am Samstag", scheduled_at=when, spoiler_text="Termin",
                                language="de", poll={"options": ["ja", "nein"], "expires_in": 3600})
    assert response.status_code == 200, response.text
    entity = response.json()
    assert set(entity) == {"id", "scheduled_at", "params", "media_attachments"}
    assert entity["scheduled_at"].endswith("Z") and entity["scheduled_at"][:16] == when[:16]
    params = entity["params"]
    assert set(params) == PARAMS_KEYS
    assert (params["text"], params["spoiler_text"], params["visibility"], params["language"]) == \
        ("Flohmarkt am Samstag", "Termin", "public", "de")
    assert params["poll"] == {"options": ["ja", "nein"], "expires_in": "3600", "multiple": False, "hide_totals": False}
    assert (params["media_ids"], params["in_reply_to_id"], params["scheduled_at"], params["idempotency"]) == \
        (None, None, None, None)
    assert params["with_rate_limit"] is False and isinstance(params["application_id"], int)
    assert entity["media_attachments"] == []
    async with moers.site.sessions() as session:
        assert await session.scalar(select(func.count(Status.id))) == 0


async def test_a_retried_scheduling_with_the_same_idempotency_key_is_kept_once(moers: City) -> None:
    """As Mastodon: a client that retries a POST with scheduled_at (a lost answer) gets the first scheduled
    status back, with its media, instead of a second post at the same time; another key schedules anew."""
    await moers.create_account("alice")
    await moers.create_account("bob")
    alice, bob = await Reader.of(moers, "alice"), await Reader.of(moers, "bob")
    item = await upload(moers, "alice")
    when = _in(30)

    async def schedule(reader: Reader, key: str, text: str, **extra: object) -> dict[str, object]:
        response = await moers.client.post(STATUSES, json={"status": text, "scheduled_at": when, **extra},
                                           headers={**reader.headers, "Idempotency-Key": key})
        assert response.status_code == 200, response.text
        entity: dict[str, object] = response.json()
        return entity

    first = await schedule(alice, "plan-1", "Stadtfest", media_ids=[str(item.id)])
    again = await schedule(alice, "plan-1", "Stadtfest", media_ids=[str(item.id)])
    assert again == first and len(first["media_attachments"]) == 1  # type: ignore[arg-type]
    assert await _scheduled_count(moers) == 1
    assert (await schedule(alice, "plan-2", "Flohmarkt"))["id"] != first["id"]
    assert (await schedule(bob, "plan-1", "Bobs Termin"))["id"] != first["id"]  # keys are per account
    assert await _scheduled_count(moers) == 3
    # Cancelled, the key no longer answers for it: the retry schedules the post again.
    assert (await alice.delete(f"{SCHEDULED}/{first['id']}")).status_code == 200
    assert (await schedule(alice, "plan-1", "Stadtfest"))["id"] != first["id"]
    assert await _scheduled_count(moers) == 3
    # A key that made a scheduled status does not answer a post made at once.
    posted = await moers.client.post(STATUSES, json={"status": "Sofort"},
                                     headers={**alice.headers, "Idempotency-Key": "plan-2"})
    assert posted.status_code == 200 and "scheduled_at" not in posted.json()


async def test_scheduled_at_must_be_five_minutes_ahead_and_a_date(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    for when in (_in(4), _in(-10)):
        response = await alice.post(STATUSES, status="zu früh", scheduled_at=when)
        assert response.status_code == 422, when
        assert "at least 5 minutes in the future" in response.json()["error"]
    bad = await alice.post(STATUSES, status="x", scheduled_at="nächsten Dienstag")
    assert bad.status_code == 422 and "2026-12-24T18:00:00Z" in bad.json()["error"]
    empty = await alice.post(STATUSES, status="", scheduled_at=_in(30))
    assert empty.status_code == 422 and "needs some text" in empty.json()["error"]
    assert await _scheduled_count(moers) == 0


async def test_scheduled_statuses_list_show_move_and_cancel(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    ids = [(await alice.post(STATUSES, status=f"Nummer {n}", scheduled_at=_in(30 + n))).json()["id"] for n in range(3)]
    listed = await alice.get(SCHEDULED, limit=2)
    assert [item["id"] for item in listed.json()] == [ids[2], ids[1]]
    next_link = listed.headers["link"].split(",")[0]
    assert 'rel="next"' in next_link
    older = parse_qs(urlparse(next_link.strip()[1:next_link.index(">")]).query)
    assert older["max_id"] == [ids[1]] and older["limit"] == ["2"]
    assert [item["id"] for item in (await alice.get(SCHEDULED, max_id=ids[1])).json()] == [ids[0]]
    shown = (await alice.get(f"{SCHEDULED}/{ids[0]}")).json()
    assert shown["params"]["text"] == "Nummer 0"
    later = _in(600)
    moved = (await alice.put(f"{SCHEDULED}/{ids[0]}", scheduled_at=later)).json()
    assert moved["scheduled_at"][:16] == later[:16]
    too_soon = await alice.put(f"{SCHEDULED}/{ids[0]}", scheduled_at=_in(1))
    assert too_soon.status_code == 422 and "5 minutes" in too_soon.json()["error"]
    blank = await alice.put(f"{SCHEDULED}/{ids[0]}")
    assert blank.status_code == 422 and "can't be blank" in blank.json()["error"]
    assert (await alice.delete(f"{SCHEDULED}/{ids[0]}")).json() == {}
    assert (await alice.get(f"{SCHEDULED}/{ids[0]}")).status_code == 404
    assert (await alice.delete(f"{SCHEDULED}/{ids[0]}")).status_code == 404


async def test_scheduled_statuses_are_their_authors_only_and_scoped(moers: City) -> None:
    for name in ("alice", "bob"):
        await moers.create_account(name)
    alice, bob = await Reader.of(moers, "alice"), await Reader.of(moers, "bob")
    scheduled = (await alice.post(STATUSES, status="geheim", scheduled_at=_in(30))).json()
    assert (await bob.get(SCHEDULED)).json() == []
    for call in (bob.get(f"{SCHEDULED}/{scheduled['id']}"), bob.put(f"{SCHEDULED}/{scheduled['id']}",
                                                                      scheduled_at=_in(90)),
                 bob.delete(f"{SCHEDULED}/{scheduled['id']}")):
        response = await call
        assert response.status_code == 404 and response.json() == {"error": "Record not found"}
    assert (await alice.get(f"{SCHEDULED}/not-an-id")).status_code == 404
    writer = await Reader.of(moers, "alice", scopes="write")
    assert (await writer.get(SCHEDULED)).status_code == 403
    reader = await Reader.of(moers, "alice", scopes="read")
    assert (await reader.post(STATUSES, status="x", scheduled_at=_in(30))).status_code == 403
    assert (await reader.delete(f"{SCHEDULED}/{scheduled['id']}")).status_code == 403
    assert (await moers.client.get(SCHEDULED)).status_code == 401


async def test_a_reply_can_only_be_scheduled_to_a_post_the_author_sees(moers: City) -> None:
    people = await audience(moers)
    hidden = await people.carla.post(STATUSES, status="Antwort", in_reply_to_id=str(people.private.id),
                                     scheduled_at=_in(30))
    assert hidden.status_code == 404
    allowed = (await people.bob.post(STATUSES, status="Antwort", in_reply_to_id=str(people.private.id),
                                     scheduled_at=_in(30))).json()
    assert allowed["params"]["in_reply_to_id"] == str(people.private.id)


async def test_due_scheduled_status_is_published_federated_and_notifies(moers: City) -> None:
    for name in ("alice", "bob", "carla"):
        await moers.create_account(name)
    await follow(moers, "bob", "alice")
    alice = await Reader.of(moers, "alice")
    await moers.client.patch("/api/v1/accounts/update_credentials", headers=alice.headers,
                             json={"source": {"privacy": "unlisted"}})
    item = await upload(moers, "alice")
    scheduled = (await alice.post(STATUSES, status="Hallo @carla, bis gleich", scheduled_at=_in(10),
                                  media_ids=[str(item.id)])).json()
    assert scheduled["params"]["visibility"] == "unlisted"
    assert [m["id"] for m in scheduled["media_attachments"]] == [str(item.id)]
    # Not yet due: nothing happens.
    assert await housekeeping.publish_scheduled(moers.site.sessions, moers.site.urls, now=utcnow()) == 0
    due = utcnow() + timedelta(minutes=11)
    assert await housekeeping.publish_scheduled(moers.site.sessions, moers.site.urls, now=due) == 1
    assert await _scheduled_count(moers) == 0
    async with moers.site.sessions() as session:
        status = (await session.scalars(select(Status))).one()
        media = await session.get(MediaAttachment, item.id)
        creates = (await session.scalars(select(PublishedActivity).where(
            PublishedActivity.type == "Create", PublishedActivity.object_ap_id == status.ap_id))).all()
    assert status.source_text == "Hallo @carla, bis gleich" and status.visibility == "unlisted"
    assert status.published_at == due and media is not None and media.status_id == status.id
    assert len(creates) == 1
    assert await notification_kinds(moers, "carla") == ["mention"]
    assert (await alice.get(SCHEDULED)).json() == []
    assert await housekeeping.publish_scheduled(moers.site.sessions, moers.site.urls, now=due) == 0


async def test_scheduled_reply_to_a_deleted_post_goes_out_on_its_own(moers: City) -> None:
    for name in ("alice", "bob"):
        await moers.create_account(name)
    post = await moers.post("bob", "Wer kommt mit?")
    alice = await Reader.of(moers, "alice")
    await alice.post(STATUSES, status="Ich!", in_reply_to_id=str(post.id), scheduled_at=_in(10))
    bob = await Reader.of(moers, "bob")
    assert (await bob.delete(f"{STATUSES}/{post.id}")).status_code == 200
    later = utcnow() + timedelta(minutes=11)
    assert await housekeeping.publish_scheduled(moers.site.sessions, moers.site.urls, now=later) == 1
    async with moers.site.sessions() as session:
        reply = (await session.scalars(select(Status))).one()
    assert reply.source_text == "Ich!" and reply.in_reply_to_id is None


async def test_media_of_a_scheduled_status_survive_the_unattached_cleanup(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    held, loose = await upload(moers, "alice"), await upload(moers, "alice")
    scheduled = (await alice.post(STATUSES, status="Bild", media_ids=[str(held.id)],
                                  scheduled_at=_in(3 * 24 * 60))).json()
    taken = await alice.post(STATUSES, status="noch mal", media_ids=[str(held.id)], scheduled_at=_in(60))
    assert taken.status_code == 422 and "scheduled post" in taken.json()["error"]
    refused = await alice.delete(f"/api/v1/media/{held.id}")
    assert refused.status_code == 422 and "scheduled status" in refused.json()["error"]
    two_days_later = datetime.now(timezone.utc) + timedelta(days=2)
    await housekeeping.tidy(moers.site.sessions, since=two_days_later, now=two_days_later,
                            media_dir=moers.settings.media_dir)
    async with moers.site.sessions() as session:
        assert await session.get(MediaAttachment, held.id) is not None
        assert await session.get(MediaAttachment, loose.id) is None
    assert (await alice.get(f"{SCHEDULED}/{scheduled['id']}")).json()["media_attachments"][0]["id"] == str(held.id)
