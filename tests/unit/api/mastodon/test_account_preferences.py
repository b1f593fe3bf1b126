"""Issue 4: registration reason, posting defaults (source[privacy|sensitive|language]), hide_collections
(API and ActivityPub) and private account notes in the Relationship."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from fedserver.local.models.accounts import Account
from tests.api_clients import bearer
from tests.cities import City, start_city
from tests.unit.api.mastodon.social import Reader, actor_of, follow

SIGN_UP = {"username": "neu", "email": "neu@example.org", "password": "ein langes Passwort", "agreement": True}
CREDENTIALS = "/api/v1/accounts/update_credentials"
ACTIVITY = {"Accept": "application/activity+json"}


async def _app_token(city: City) -> str:
    """An app-only token (client_credentials), as an app holds before anyone signs up."""
    app = (await city.client.post("/api/v1/apps", json={"client_name": "Anmeldung", "scopes": "read write",
                                                        "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"})).json()
    token = await city.client.post("/oauth/token", json={
        "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "scope": "read write"})
    return str(token.json()["access_token"])


async def _patch(city: City, reader: Reader, body: dict[str, object]) -> dict[str, object]:
    response = await city.client.patch(CREDENTIALS, headers=reader.headers, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- registration reason ---------------------------------------------------------------------------------------

async def test_registration_in_approval_mode_needs_a_reason_and_keeps_it(tmp_path: Path) -> None:
    async with start_city(tmp_path / "moers", registrations="approval") as city:
        token = await _app_token(city)
        for reason in (None, "   "):
            body = {**SIGN_UP, **({"reason": reason} if reason is not None else {})}
            refused = await city.client.post("/api/v1/accounts", json=body, headers=bearer(token))
            assert refused.status_code == 422
            assert "reason can't be blank" in refused.json()["error"]
            assert refused.json()["details"]["reason"][0]["error"] == "ERR_BLANK"
        accepted = await city.client.post("/api/v1/accounts", json={**SIGN_UP, "reason": " Ich wohne in Moers. "},
                                          headers=bearer(token))
        assert accepted.status_code == 200, accepted.text
        async with city.site.sessions() as session:
            account = await session.scalar(select(Account))
        assert account is not None and account.registration_reason == "Ich wohne in Moers."
        assert account.is_approved is False


async def test_registration_reason_is_optional_when_open_and_limited_in_length(moers: City) -> None:
    token = await _app_token(moers)
    too_long = await moers.client.post("/api/v1/accounts", json={**SIGN_UP, "reason": "x" * 421},
                                       headers=bearer(token))
    assert too_long.status_code == 422 and "420" in too_long.json()["error"]
    assert (await moers.client.post("/api/v1/accounts", json=SIGN_UP, headers=bearer(token))).status_code == 200


# --- posting defaults ------------------------------------------------------------------------------------------

async def test_posting_defaults_show_in_source_and_preferences_and_apply_to_new_posts(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    me = await _patch(moers, alice, {"source": {"privacy": "unlisted", "sensitive": True, "language": "en"}})
    assert {key: me["source"][key] for key in ("privacy", "sensitive", "language")} == {  # type: ignore[index]
        "privacy": "unlisted", "sensitive": True, "language": "en"}
    verified = (await alice.get("/api/v1/accounts/verify_credentials")).json()
    assert (verified["source"]["privacy"], verified["source"]["sensitive"], verified["source"]["language"]) == \
        ("unlisted", True, "en")
    assert (await alice.get("/api/v1/preferences")).json() == {
        "posting:default:visibility": "unlisted", "posting:default:sensitive": True,
        "posting:default:language": "en", "reading:expand:media": "default", "reading:expand:spoilers": False}
    post = (await alice.post("/api/v1/statuses", status="Guten Morgen")).json()
    assert (post["visibility"], post["sensitive"], post["language"]) == ("unlisted", True, "en")
    chosen = (await alice.post("/api/v1/statuses", status="Hallo", visibility="private", sensitive=False,
                               language="de")).json()
    assert (chosen["visibility"], chosen["sensitive"], chosen["language"]) == ("private", False, "de")


async def test_posting_defaults_from_a_form_and_partial_changes(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    response = await moers.client.patch(CREDENTIALS, headers=alice.headers,
                                        data={"source[privacy]": "private", "source[sensitive]": "true"})
    assert response.status_code == 200, response.text
    me = await _patch(moers, alice, {"display_name": "Alice"})  # the defaults stay as they were
    assert me["source"]["privacy"] == "private" and me["source"]["sensitive"] is True  # type: ignore[index]
    assert me["source"]["language"] == "de"  # type: ignore[index]  # no default chosen: the account's locale


async def test_bad_posting_defaults_are_refused(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    for source, field in (({"privacy": "direct"}, "source[privacy]"), ({"privacy": "everyone"}, "source[privacy]"),
                          ({"language": "Deutsch!"}, "source[language]")):
        response = await moers.client.patch(CREDENTIALS, headers=alice.headers, json={"source": source})
        assert response.status_code == 422, source
        assert field in response.json()["details"], response.json()
    assert (await alice.get("/api/v1/preferences")).json()["posting:default:visibility"] == "public"
    reader = await Reader.of(moers, "alice", scopes="read")
    refused = await moers.client.patch(CREDENTIALS, headers=reader.headers, json={"source": {"privacy": "private"}})
    assert refused.status_code == 403


# --- hide_collections ------------------------------------------------------------------------------------------

async def test_hidden_collections_are_empty_to_others_but_not_to_the_owner(moers: City) -> None:
    for name in ("alice", "bob", "carla"):
        await moers.create_account(name)
    await follow(moers, "bob", "alice")
    await follow(moers, "alice", "carla")
    alice, bob = await Reader.of(moers, "alice"), await Reader.of(moers, "bob")
    alice_id = str((await actor_of(moers, "alice")).id)
    me = await _patch(moers, alice, {"hide_collections": True})
    assert me["hide_collections"] is True and me["source"]["hide_collections"] is True  # type: ignore[index]
    for path in (f"/api/v1/accounts/{alice_id}/followers", f"/api/v1/accounts/{alice_id}/following"):
        assert (await bob.get(path)).json() == [], path
        assert (await moers.client.get(path)).json() == [], path
        assert len((await alice.get(path)).json()) == 1, path
    await _patch(moers, alice, {"hide_collections": False})
    assert [a["username"] for a in (await bob.get(f"/api/v1/accounts/{alice_id}/followers")).json()] == ["bob"]


async def test_hidden_collections_serve_only_their_size_over_activitypub(moers: City) -> None:
    for name in ("alice", "bob", "carla"):
        await moers.create_account(name)
    await follow(moers, "bob", "alice")
    await follow(moers, "carla", "alice")
    alice = await Reader.of(moers, "alice")
    shown = (await moers.client.get("/users/alice/followers", headers=ACTIVITY)).json()
    assert shown["totalItems"] == 2 and "first" in shown
    await _patch(moers, alice, {"hide_collections": "true"})
    for collection, total in (("followers", 2), ("following", 0)):
        hidden = (await moers.client.get(f"/users/alice/{collection}", headers=ACTIVITY)).json()
        assert hidden["totalItems"] == total and "first" not in hidden and "orderedItems" not in hidden
        page = await moers.client.get(f"/users/alice/{collection}?page=1", headers=ACTIVITY)
        assert page.status_code == 403 and "bob" not in page.text


# --- account notes ---------------------------------------------------------------------------------------------

async def test_account_note_shows_in_the_relationship_of_its_writer_only(moers: City) -> None:
    for name in ("alice", "bob", "carla"):
        await moers.create_account(name)
    alice, carla = await Reader.of(moers, "alice"), await Reader.of(moers, "carla")
    bob_id = str((await actor_of(moers, "bob")).id)
    relationship = (await alice.post(f"/api/v1/accounts/{bob_id}/note", comment="Kennt sich mit Fahrrädern aus")).json()
    assert relationship["id"] == bob_id and relationship["note"] == "Kennt sich mit Fahrrädern aus"
    assert relationship["following"] is False and "blocking" in relationship
    listed = (await alice.get("/api/v1/accounts/relationships", **{"id[]": bob_id})).json()
    assert listed[0]["note"] == "Kennt sich mit Fahrrädern aus"
    assert (await carla.get("/api/v1/accounts/relationships", **{"id[]": bob_id})).json()[0]["note"] == ""
    changed = (await alice.post(f"/api/v1/accounts/{bob_id}/note", comment="Neue Notiz")).json()
    assert changed["note"] == "Neue Notiz"
    assert (await alice.post(f"/api/v1/accounts/{bob_id}/note", comment="")).json()["note"] == ""
    assert (await alice.post(f"/api/v1/accounts/{bob_id}/note")).json()["note"] == ""


async def test_account_note_input_and_scope_are_checked(moers: City) -> None:
    for name in ("alice", "bob"):
        await moers.create_account(name)
    alice = await Reader.of(moers, "alice")
    bob_id = str((await actor_of(moers, "bob")).id)
    too_long = await alice.post(f"/api/v1/accounts/{bob_id}/note", comment="x" * 2001)
    assert too_long.status_code == 422 and "2000" in too_long.json()["error"]
    missing = await alice.post("/api/v1/accounts/99999999/note", comment="x")
    assert missing.status_code == 404 and missing.json()["error"]
    reader = await Reader.of(moers, "alice", scopes="read")
    assert (await reader.post(f"/api/v1/accounts/{bob_id}/note", comment="x")).status_code == 403
    assert (await moers.client.post(f"/api/v1/accounts/{bob_id}/note", json={"comment": "x"})).status_code == 401
