"""Registration (POST /api/v1/accounts) in each mode, and deleting one's own account with everything of it."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from fedserver.db import utcnow
from fedserver.local import media
from fedserver.local.account_deletion import TOMBSTONE
from fedserver.local.models.accounts import Account
from fedserver.local.models.actors import Actor, ActorKey
from fedserver.local.models.interactions import Follow, Like, Mute
from fedserver.local.models.media import MediaAttachment
from fedserver.local.models.notifications import Notification
from fedserver.local.models.statuses import Status
from fedserver.outbox.published import PublishedActivity
from tests.api_clients import bearer
from tests.cities import PASSWORD, City, start_city
from tests.unit.api.mastodon.social import Reader, actor_of, follow, like

SIGN_UP = {"username": "neu", "email": "neu@example.org", "password": "ein langes Passwort", "agreement": True,
           "locale": "de"}


async def _app_token(city: City, scopes: str = "read write follow") -> str:
    app = (await city.client.post("/api/v1/apps", json={"client_name": "Anmeldung", "scopes": scopes,
                                                        "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"})).json()
    token = await city.client.post("/oauth/token", json={
        "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "scope": scopes})
    return str(token.json()["access_token"])


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_register_answers_a_token_that_works(moers: City) -> None:
    response = await moers.client.post("/api/v1/accounts", json=SIGN_UP, headers=bearer(await _app_token(moers)))
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "Bearer" and token["scope"] == "read write follow"
    assert isinstance(token["created_at"], int)
    me = await moers.client.get("/api/v1/accounts/verify_credentials", headers=bearer(token["access_token"]))
    assert me.status_code == 200 and me.json()["username"] == "neu"


async def test_register_as_a_form_with_the_mastodon_py_shape(moers: City) -> None:
    form = {**SIGN_UP, "agreement": "1"}
    response = await moers.client.post("/api/v1/accounts", data=form, headers=bearer(await _app_token(moers)))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("change, field, code", [
    ({"username": "alice"}, "username", "ERR_TAKEN"), ({"email": "ALICE@moers.test.example"}, "email", "ERR_TAKEN"),
    ({"username": "nö!"}, "username", "ERR_INVALID"), ({"username": "admin"}, "username", "ERR_RESERVED"),
    ({"username": ""}, "username", "ERR_BLANK"), ({"email": "kein-at"}, "email", "ERR_INVALID"),
    ({"password": "kurz"}, "password", "ERR_TOO_SHORT"), ({"agreement": False}, "agreement", "ERR_ACCEPTED"),
    ({"locale": "Deutsch"}, "locale", "ERR_INCLUSION"), ({"reason": "x" * 421}, "reason", "ERR_TOO_LONG"),
])
async def test_register_errors_carry_mastodons_details(moers: City, change: dict[str, object], field: str,
                                                      code: str) -> None:
    await moers.create_account("alice")
    response = await moers.client.post("/api/v1/accounts", json={**SIGN_UP, **change},
                                       headers=bearer(await _app_token(moers)))
    assert response.status_code == 422
    assert response.json()["details"][field][0]["error"] == code
    assert response.json()["error"].startswith("Validation failed")


async def test_register_needs_an_app_token_with_write_accounts(moers: City) -> None:
    assert (await moers.client.post("/api/v1/accounts", json=SIGN_UP)).status_code == 401
    read_only = await _app_token(moers, "read")
    assert (await moers.client.post("/api/v1/accounts", json=SIGN_UP, headers=bearer(read_only))).status_code == 403


async def test_registration_in_approval_mode_waits_for_moderators(tmp_path: Path) -> None:
    async with start_city(tmp_path / "moers", registrations="approval") as city:
        response = await city.client.post("/api/v1/accounts", json={**SIGN_UP, "reason": "Ich wohne in Moers."},
                                          headers=bearer(await _app_token(city)))
        assert response.status_code == 200, response.text
        waiting = await city.client.get("/api/v1/accounts/verify_credentials",
                                        headers=bearer(response.json()["access_token"]))
        assert waiting.status_code == 403
        found = await city.client.get("/api/v1/accounts/lookup", params={"acct": "neu"})
        assert found.status_code == 404


async def test_registration_when_closed_is_forbidden(tmp_path: Path) -> None:
    async with start_city(tmp_path / "moers", registrations="closed") as city:
        response = await city.client.post("/api/v1/accounts", json=SIGN_UP, headers=bearer(await _app_token(city)))
        assert response.status_code == 403 and "error" in response.json()
        async with city.site.sessions() as session:
            assert await session.scalar(select(func.count(Account.id))) == 0


async def test_deleting_an_account_removes_every_row_and_file(moers: City) -> None:
    for name in ("alice", "bob"):
        await moers.create_account(name)
    await follow(moers, "bob", "alice")
    await follow(moers, "alice", "bob")
    post = await moers.post("alice", "Tschuess Moers")
    bobs = await moers.post("bob", "Hallo @alice")
    await like(moers, "bob", post)
    await like(moers, "alice", bobs)
    alice_actor = await actor_of(moers, "alice")
    async with moers.site.sessions() as session, session.begin():
        upload = await media.upload(session, moers.settings.media_dir, alice_actor, _png(), now=utcnow())
        upload.status_id = post.id
        session.add(Mute(actor_id=(await actor_of(moers, "bob")).id, target_id=alice_actor.id))
    alice = await Reader.of(moers, "alice")
    pictured = await moers.client.patch("/api/v1/accounts/update_credentials", headers=alice.headers,
                                        files={"avatar": ("a.png", _png(), "image/png")})
    assert pictured.status_code == 200
    assert [path for path in moers.settings.media_dir.rglob("*") if path.is_file()]
    response = await alice.post("/api/v1/fedserver/accounts/delete", password=PASSWORD)
    assert response.status_code == 200 and response.json() == {}
    async with moers.site.sessions() as session:
        assert await session.get(Actor, alice_actor.id) is None  # nobody elsewhere to tell: no tombstone
        assert await session.scalar(select(func.count()).select_from(ActorKey)) == 2  # bob's and the instance's
        for model, column in ((Status, Status.author_id), (MediaAttachment, MediaAttachment.owner_id),
                              (Like, Like.actor_id), (Follow, Follow.target_id), (Follow, Follow.follower_id),
                              (Notification, Notification.from_actor_id), (Mute, Mute.target_id)):
            assert await session.scalar(select(func.count()).select_from(model).where(
                column == alice_actor.id)) == 0, model
        assert await session.scalar(select(func.count(Like.id))) == 0  # bob's like of alice's post went too
        assert await session.scalar(select(func.count(PublishedActivity.id)).where(
            PublishedActivity.actor_ap_id == alice_actor.ap_id)) == 0
        assert (await session.scalars(select(Status.id))).all() == [bobs.id]  # bob's post stays, his own
    assert not [path for path in moers.settings.media_dir.rglob("*") if path.is_file()]
    assert (await alice.get("/api/v1/accounts/verify_credentials")).status_code == 401
    assert (await moers.client.get("/users/alice", headers={"Accept": "application/activity+json"})).status_code == 404
    # The name is free again once nothing of the old account is left.
    await moers.create_account("alice")


async def test_deleting_needs_the_right_password_and_scope(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    assert (await alice.post("/api/v1/fedserver/accounts/delete")).status_code == 400
    wrong = await alice.post("/api/v1/fedserver/accounts/delete", password="falsch falsch")
    assert wrong.status_code == 422 and "password" in wrong.json()["details"]
    reader = await Reader.of(moers, "alice", "read")
    assert (await reader.post("/api/v1/fedserver/accounts/delete", password=PASSWORD)).status_code == 403
    assert (await moers.client.post("/api/v1/fedserver/accounts/delete", json={"password": PASSWORD})).status_code == 401
    assert (await alice.get("/api/v1/accounts/verify_credentials")).status_code == 200
    async with moers.site.sessions() as session:
        assert (await session.scalars(select(Actor.kind).where(Actor.username == "alice"))).one() != TOMBSTONE
