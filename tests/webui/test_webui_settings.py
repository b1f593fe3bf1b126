"""Settings: profile, password (ends every session), download my data, deleting the account with confirmation;
and the catalogues cover every message the web UI shows."""
from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from fedserver.api.oauth.authorize import FORM_EXPIRED
from fedserver.local import accounts
from fedserver.local.errors import NotFound
from fedserver.local.models.accounts import Account
from tests.cities import PASSWORD, City
from tests.webui.browser import Visitor
from webui import catalogue, i18n, sessions


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (500, 500), (20, 90, 160)).save(buffer, format="JPEG")
    return buffer.getvalue()


async def test_profile_changes_show_on_the_profile_page(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        response = await alice.submit("/settings", "/settings/profile", {
            "display_name": "Alice aus Repelen", "note": "Ich mag <b>Fahrräder</b>", "locked": "yes"},
            files={"avatar": ("me.jpg", jpeg(), "image/jpeg")})
        assert response.status_code == 303
        profile = (await alice.get("/@alice")).text
        form = (await alice.get("/settings")).text
    assert "Alice aus Repelen" in profile and "bestätigt Follower" in profile
    assert "&lt;b&gt;Fahrräder&lt;/b&gt;" in profile and "<b>" not in profile  # typed text, shown as text
    assert 'class="avatar large" src="https://moers.test/media/' in profile
    assert "Ich mag &lt;b&gt;Fahrräder&lt;/b&gt;</textarea>" in form


async def test_password_change_ends_other_sessions_but_keeps_this_one(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as laptop, Visitor(moers) as phone:
        await laptop.log_in("alice")
        await phone.log_in("alice")
        mismatch = await laptop.submit("/settings", "/settings/password", {
            "current_password": PASSWORD, "password": "neues-passwort-1", "password_confirmation": "anders"})
        wrong = await laptop.submit("/settings", "/settings/password", {
            "current_password": "falsch-falsch", "password": "neues-passwort-1",
            "password_confirmation": "neues-passwort-1"})
        assert mismatch.status_code == 422 and "verschieden" in mismatch.text
        assert wrong.status_code == 422 and "aktuelle Passwort ist falsch" in wrong.text
        changed = await laptop.submit("/settings", "/settings/password", {
            "current_password": PASSWORD, "password": "neues-passwort-1", "password_confirmation": "neues-passwort-1"})
        assert changed.status_code == 303
        assert (await laptop.get("/home")).status_code == 200
        assert (await phone.get("/home")).status_code == 303
    async with Visitor(moers) as again:
        old = await again.submit("/login", "/login", {"login": "alice", "password": PASSWORD})
        assert old.status_code == 401
        await again.log_in("alice", "neues-passwort-1")


async def test_download_my_data_has_posts_and_follows(moers: City) -> None:
    await moers.create_account("alice")
    await moers.post("alice", "Erster Beitrag")
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        response = await alice.get("/settings/export")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="alice-')
    document = response.json()
    assert document["account"]["username"] == "alice"
    assert [post["text"] for post in document["posts"]] == ["Erster Beitrag"]
    assert document["following"] == [] and document["followers"] == []


async def test_account_deletion_needs_username_and_password(moers: City) -> None:
    await moers.create_account("alice")
    await moers.post("alice", "Tschüss Moers")
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        cookie = alice.client.cookies[sessions.COOKIE]
        confirm = await alice.get("/settings/delete")
        assert confirm.status_code == 200 and "endgültig" in confirm.text
        wrong = await alice.submit("/settings/delete", "/settings/delete",
                                   {"confirm_username": "bob", "password": PASSWORD})
        assert wrong.status_code == 422 and "nicht gelöscht" in wrong.text
        done = await alice.submit("/settings/delete", "/settings/delete",
                                  {"confirm_username": "alice", "password": PASSWORD})
        assert done.status_code == 200 and "Konto gelöscht" in done.text
        assert (await alice.get("/@alice")).status_code == 404
    async with Visitor(moers) as thief:
        thief.client.cookies.set(sessions.COOKIE, cookie, domain="moers.test")
        assert (await thief.get("/home")).status_code == 303
    async with moers.site.sessions() as session:
        assert (await session.scalars(select(Account))).first() is None
        try:
            await accounts.find_by_username(session, "alice")
        except NotFound:
            pass
        else:
            raise AssertionError("alice is still there")


def test_every_message_has_a_german_and_an_english_entry() -> None:
    """In both catalogues: the web UI's, and the OAuth consent page's (fedserver/api/oauth)."""
    # The extraction finds templates, partials and modules (N_ in page modules and in api/oauth/authorize.py).
    expected = {catalogue.WEBUI: {"Log in", "Bookmarks"}, catalogue.CONSENT: {"Allow", FORM_EXPIRED}}
    for part in catalogue.PARTS:
        used = catalogue.used_messages(part)
        assert expected[part] <= used, part.name
        for language in i18n.LANGUAGES:
            entries = {message.id: message.string for message in catalogue.load(language, part) if message.id}
            missing = sorted(used - {key for key, text in entries.items() if text})
            assert not missing, f"{part.name}, {language}: untranslated {missing[:5]}"
            stale = sorted(set(entries) - used)
            assert not stale, f"{part.name}, {language}: no longer used {stale[:5]}"
    assert i18n.translations("de").gettext("Bookmarks") == "Lesezeichen"
    assert i18n.translations("en").gettext("Bookmarks") == "Bookmarks"
