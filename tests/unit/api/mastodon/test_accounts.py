"""Accounts: one's own profile (verify and update credentials, pictures), show, lookup, search, featured tags."""
from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from sqlalchemy import select

from fedserver.api.mastodon.call import _from_pairs
from fedserver.db import utcnow
from fedserver.local.models.accounts import Account
from fedserver.local.models.actors import Actor
from fedserver.outbox.published import PublishedActivity
from tests.api_clients import bearer
from tests.cities import City
from tests.unit.api.mastodon.social import Reader, actor_of

# Every key docs.joinmastodon.org/entities/Account lists (besides moved/suspended/limited, sent only when true).
ACCOUNT_KEYS = {"id", "username", "acct", "url", "display_name", "note", "avatar", "avatar_static", "header",
                "header_static", "locked", "fields", "emojis", "bot", "group", "discoverable", "noindex",
                "created_at", "last_status_at", "statuses_count", "followers_count", "following_count",
                "indexable", "hide_collections", "roles", "uri"}


async def _remote(city: City, username: str, domain: str = "solingen.test", **changes: object) -> Actor:
    async with city.site.sessions() as session, session.begin():
        actor = Actor(ap_id=f"https://{domain}/users/{username}", kind="Person", username=username,
                      username_key=username.lower(), domain=domain, inbox_url=f"https://{domain}/users/{username}/inbox",
                      shared_inbox_url=f"https://{domain}/inbox", published_at=utcnow(), **changes)
        session.add(actor)
    return actor


def _picture(width: int, height: int, fmt: str = "JPEG", *, gps: bool = False) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if gps:
        exif[0x010F] = "SecretCam"  # Make
        exif[0x8825] = {2: (51.0, 27.0, 5.0)}  # GPSInfo: latitude
    image.save(buffer, format=fmt, exif=exif.tobytes())
    return buffer.getvalue()


def test_nested_form_keys_become_nested_params() -> None:
    pairs = [("id[]", "1"), ("id[]", "2"), ("source[privacy]", "private"), ("fields_attributes[0][name]", "Web"),
             ("fields_attributes[0][value]", "https://moers.de"), ("fields_attributes[1][name]", "Ort"),
             ("tags[x][]", "a"), ("plain", "yes"), ("broken[key", "kept"), ("odd[][name]", "kept too")]
    assert _from_pairs(pairs) == {
        "id": ["1", "2"], "source": {"privacy": "private"},
        "fields_attributes": {"0": {"name": "Web", "value": "https://moers.de"}, "1": {"name": "Ort"}},
        "tags": {"x": ["a"]}, "plain": "yes", "broken[key": "kept", "odd[][name]": "kept too"}


async def test_verify_credentials_has_the_account_shape_and_source(moers: City) -> None:
    await moers.create_account("alice")
    me = (await (await Reader.of(moers, "alice")).get("/api/v1/accounts/verify_credentials")).json()
    assert ACCOUNT_KEYS <= set(me)
    assert isinstance(me["id"], str) and me["last_status_at"] is None
    assert set(me["source"]) >= {"note", "fields", "privacy", "sensitive", "language", "follow_requests_count"}


async def test_update_credentials_changes_profile_and_federates(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    response = await moers.client.patch("/api/v1/accounts/update_credentials", headers=alice.headers, data={
        "display_name": "Alice aus Moers", "note": "Ich mag #Moers", "locked": "true", "bot": "false",
        "discoverable": "false", "indexable": "true", "source[language]": "en",
        "fields_attributes[0][name]": "Web", "fields_attributes[0][value]": "https://alice.example",
        "fields_attributes[1][name]": "Ort", "fields_attributes[1][value]": "Moers <Rheinberg>"})
    assert response.status_code == 200, response.text
    me = response.json()
    assert (me["display_name"], me["locked"], me["bot"], me["discoverable"], me["indexable"]) == \
        ("Alice aus Moers", True, False, False, True)
    assert "#<span>Moers</span>" in me["note"]
    assert me["fields"][0]["value"].startswith('<a href="https://alice.example"')
    assert me["fields"][1]["value"] == "Moers &lt;Rheinberg&gt;"
    assert me["source"]["fields"][1] == {"name": "Ort", "value": "Moers <Rheinberg>", "verified_at": None}
    assert me["source"]["language"] == "en"
    async with moers.site.sessions() as session:
        updates = (await session.scalars(select(PublishedActivity).where(PublishedActivity.type == "Update"))).all()
    assert len(updates) == 1 and json.loads(updates[0].body)["object"]["name"] == "Alice aus Moers"


async def test_update_credentials_takes_fields_as_json_list(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    response = await moers.client.patch("/api/v1/accounts/update_credentials", headers=alice.headers, json={
        "fields_attributes": [{"name": "Verein", "value": "TV Moers"}, {"name": "", "value": ""}]})
    assert response.status_code == 200, response.text
    assert [field["name"] for field in response.json()["fields"]] == ["Verein"]


@pytest.mark.parametrize("body, field", [
    ({"display_name": "x" * 31}, "display_name"), ({"note": "x" * 501}, "note"),
    ({"fields_attributes": [{"name": str(n), "value": "v"} for n in range(5)]}, "fields_attributes"),
    ({"fields_attributes": "nope"}, "fields_attributes"), ({"source": {"language": "Deutsch!"}}, "source[language]"),
])
async def test_update_credentials_refuses_bad_input(moers: City, body: dict[str, object], field: str) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    response = await moers.client.patch("/api/v1/accounts/update_credentials", headers=alice.headers, json=body)
    assert response.status_code == 422
    assert field in response.json()["details"]


async def test_avatar_and_header_are_reencoded_without_exif_and_resized(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    response = await moers.client.patch(
        "/api/v1/accounts/update_credentials", headers=alice.headers,
        files={"avatar": ("me.jpg", _picture(1200, 900, gps=True), "image/jpeg"),
               "header": ("top.png", _picture(3000, 600, "PNG"), "image/png")})
    assert response.status_code == 200, response.text
    me = response.json()
    avatar_path = moers.settings.media_dir / me["avatar"].split("/media/", 1)[1]
    header_path = moers.settings.media_dir / me["header"].split("/media/", 1)[1]
    with Image.open(avatar_path) as avatar, Image.open(header_path) as header:
        assert avatar.size == (400, 400) and header.size == (1500, 500)
        assert not avatar.getexif() and "exif" not in avatar.info
    assert b"SecretCam" not in avatar_path.read_bytes()
    assert (await moers.client.get(me["avatar"])).status_code == 200  # served by the /media route
    # A new avatar replaces the file of the old one.
    again = await moers.client.patch("/api/v1/accounts/update_credentials", headers=alice.headers,
                                     files={"avatar": ("small.png", _picture(50, 80, "PNG"), "image/png")})
    assert again.status_code == 200
    assert not avatar_path.exists() and header_path.exists()
    with Image.open(moers.settings.media_dir / again.json()["avatar"].split("/media/", 1)[1]) as small:
        assert small.size == (50, 50)  # cropped square, never enlarged


async def test_a_file_that_is_no_image_is_refused_and_nothing_changes(moers: City) -> None:
    await moers.create_account("alice")
    alice = await Reader.of(moers, "alice")
    response = await moers.client.patch(
        "/api/v1/accounts/update_credentials", headers=alice.headers, data={"display_name": "Neu"},
        files={"header": ("top.png", _picture(900, 300, "PNG"), "image/png"),
               "avatar": ("me.png", b"<svg>no</svg>", "image/png")})
    assert response.status_code == 422 and "avatar" in response.json()["details"]
    me = (await alice.get("/api/v1/accounts/verify_credentials")).json()
    assert me["display_name"] == "" and me["header"].endswith("/static/header.png")
    assert not [path for path in moers.settings.media_dir.rglob("*") if path.is_file()]


async def test_update_credentials_needs_write_scope_and_a_user(moers: City) -> None:
    await moers.create_account("alice")
    reader = await Reader.of(moers, "alice", "read")
    assert (await moers.client.patch("/api/v1/accounts/update_credentials", headers=reader.headers,
                                     json={"note": "x"})).status_code == 403
    assert (await moers.client.patch("/api/v1/accounts/update_credentials", json={"note": "x"})).status_code == 401
    assert (await moers.client.get("/api/v1/accounts/verify_credentials")).status_code == 401


async def test_show_is_public_and_hides_unknown_unapproved_and_instance_actors(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("waiting")
    alice = await actor_of(moers, "alice")
    async with moers.site.sessions() as session, session.begin():
        account = (await session.scalars(select(Account).join(Account.actor)
                                         .where(Actor.username == "waiting"))).one()
        account.is_approved = False
        waiting_id = account.actor_id
        instance_id = (await session.scalars(select(Actor.id).where(Actor.ap_id == moers.site.urls.instance_actor))).one()
    shown = await moers.client.get(f"/api/v1/accounts/{alice.id}")
    assert shown.status_code == 200 and shown.json()["acct"] == "alice"
    for missing in (waiting_id, instance_id, 12345):
        assert (await moers.client.get(f"/api/v1/accounts/{missing}")).status_code == 404
    assert (await moers.client.get("/api/v1/accounts/not-an-id")).status_code == 404


async def test_lookup_finds_local_and_known_remote_accounts(moers: City) -> None:
    await moers.create_account("alice")
    dora = await _remote(moers, "dora")
    for acct in ("alice", "@alice", "alice@moers.test", "ALICE"):
        response = await moers.client.get("/api/v1/accounts/lookup", params={"acct": acct})
        assert response.status_code == 200 and response.json()["acct"] == "alice", acct
    remote = (await moers.client.get("/api/v1/accounts/lookup", params={"acct": "dora@solingen.test"})).json()
    assert remote["id"] == str(dora.id) and remote["acct"] == "dora@solingen.test"
    for acct in ("nobody", "dora", "alice@solingen.test", ""):
        assert (await moers.client.get("/api/v1/accounts/lookup", params={"acct": acct})).status_code == 404


async def test_search_matches_prefixes_alphabetically_with_the_exact_handle_first(moers: City) -> None:
    for name in ("anna", "annabell", "bob"):
        await moers.create_account(name)
    await _remote(moers, "anna", display_name="Anna Remote")
    await _remote(moers, "zoe", display_name="Annette")
    reader = await Reader.of(moers, "bob")
    found = (await reader.get("/api/v1/accounts/search", q="anna")).json()
    assert [account["acct"] for account in found] == ["anna", "anna@solingen.test", "annabell"]
    assert [a["acct"] for a in (await reader.get("/api/v1/accounts/search", q="ann", limit=2)).json()] == \
        ["anna", "anna@solingen.test"]
    assert [a["acct"] for a in (await reader.get("/api/v1/accounts/search", q="@anna@solingen.test")).json()] == \
        ["anna@solingen.test"]
    assert "zoe@solingen.test" in [a["acct"] for a in (await reader.get("/api/v1/accounts/search", q="Annet")).json()]
    assert (await reader.get("/api/v1/accounts/search", q="100%_")).json() == []


async def test_search_following_only_and_bad_input(moers: City) -> None:
    for name in ("anna", "annabell", "bob"):
        await moers.create_account(name)
    reader = await Reader.of(moers, "bob")
    annabell = await actor_of(moers, "annabell")
    await reader.post(f"/api/v1/accounts/{annabell.id}/follow")
    found = await reader.get("/api/v1/accounts/search", q="ann", following="true")
    assert [account["acct"] for account in found.json()] == ["annabell"]
    assert (await reader.get("/api/v1/accounts/search")).status_code == 400
    assert (await reader.get("/api/v1/accounts/search", q="a", limit="many")).status_code == 400
    assert (await moers.client.get("/api/v1/accounts/search", params={"q": "a"})).status_code == 401


async def test_featured_tags_are_an_empty_list_for_known_accounts(moers: City) -> None:
    await moers.create_account("alice")
    alice = await actor_of(moers, "alice")
    assert (await moers.client.get(f"/api/v1/accounts/{alice.id}/featured_tags")).json() == []
    assert (await moers.client.get("/api/v1/accounts/1/featured_tags")).status_code == 404


async def test_a_token_of_another_city_is_refused(moers: City) -> None:
    await moers.create_account("alice")
    response = await moers.client.get("/api/v1/accounts/verify_credentials", headers=bearer("made-up"))
    assert response.status_code == 401 and "error" in response.json()
