"""Sign-up by registrations mode, log-in, log-out, session cookies, CSRF, language choice."""
from __future__ import annotations

from pathlib import Path

import pytest

from fedserver.local import passwords
from tests.cities import City, start_city
from tests.webui.browser import Visitor, csrf_token
from webui import i18n, sessions


async def test_open_signup_signs_the_new_resident_in(moers: City) -> None:
    async with Visitor(moers) as visitor:
        response = await visitor.submit("/signup", "/signup", {
            "username": "dora", "email": "dora@example.org", "password": "lange-genug-1", "agreement": "yes"})
        assert response.status_code == 303 and response.headers["location"] == "/home"
        cookie = response.headers["set-cookie"]
        home = await visitor.get("/home")
    assert home.status_code == 200 and "@dora" in home.text
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie


async def test_signup_mistakes_are_explained_in_german(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as visitor:
        taken = await visitor.submit("/signup", "/signup", {
            "username": "alice", "email": "x@example.org", "password": "lange-genug-1", "agreement": "yes"})
        unagreed = await visitor.submit("/signup", "/signup", {
            "username": "erik", "email": "e@example.org", "password": "lange-genug-1"})
    assert taken.status_code == 422 and "bereits vergeben" in taken.text
    assert unagreed.status_code == 422 and "Regeln der Stadt" in unagreed.text


async def test_approval_mode_holds_the_account_until_approved(tmp_path: Path) -> None:
    async with start_city(tmp_path / "m", registrations="approval") as city, Visitor(city) as visitor:
        response = await visitor.submit("/signup", "/signup", {
            "username": "dora", "email": "dora@example.org", "password": "lange-genug-1", "agreement": "yes",
            "reason": "Ich wohne in Moers"})
        assert response.status_code == 200 and "Freischaltung" in response.text
        login = await visitor.submit("/login", "/login", {"login": "dora", "password": "lange-genug-1"})
    assert login.status_code == 403 and "Freischaltung" in login.text


async def test_closed_registrations_refuse_sign_up(tmp_path: Path) -> None:
    async with start_city(tmp_path / "m", registrations="closed") as city, Visitor(city) as visitor:
        form = await visitor.get("/signup")
        landing = await visitor.get("/")
        response = await visitor.client.post("/signup", data={
            "csrf_token": csrf_token(form.text),
            "username": "dora", "email": "dora@example.org", "password": "lange-genug-1", "agreement": "yes"})
    assert form.status_code == 403 and 'action="/signup"' not in form.text
    assert 'href="/signup"' not in landing.text.split("<main")[1]
    assert response.status_code == 403


async def test_wrong_password_is_refused(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as visitor:
        response = await visitor.submit("/login", "/login", {"login": "alice", "password": "falsch-falsch"})
        home = await visitor.get("/home")
    assert response.status_code == 401 and "falsch" in response.text
    assert home.status_code == 303 and home.headers["location"].startswith("/login")


async def test_unknown_name_is_refused_like_a_wrong_password(moers: City, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same answer, and the same argon2 work (against the dummy hash), as for a wrong password."""
    await moers.create_account("alice")
    verified: list[str] = []
    real_verify = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password",
                        lambda password_hash, password: verified.append(password_hash) or real_verify(password_hash, password))
    async with Visitor(moers) as visitor:
        unknown = await visitor.submit("/login", "/login", {"login": "niemand", "password": "falsch-falsch"})
        wrong = await visitor.submit("/login", "/login", {"login": "alice", "password": "falsch-falsch"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.text.count("falsch") == wrong.text.count("falsch")
    assert verified[0] == passwords.dummy_hash() and verified[1].startswith("$argon2id$") and len(verified) == 2


async def test_log_out_ends_the_session_on_the_server(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as visitor:
        await visitor.log_in("alice")
        old_cookie = visitor.client.cookies[sessions.COOKIE]
        assert (await visitor.get("/home")).status_code == 200
        page = await visitor.get("/home")
        logout = await visitor.client.post("/logout", data={"csrf_token": csrf_token(page.text)})
        assert logout.status_code == 303
    async with Visitor(moers) as thief:
        thief.client.cookies.set(sessions.COOKIE, old_cookie, domain="moers.test")
        again = await thief.get("/home")
    assert again.status_code == 303, "a logged-out session cookie must not work any more"


async def test_tampered_session_cookie_is_ignored(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as visitor:
        await visitor.log_in("alice")
        token = sessions.decode(moers.site.secret_key, visitor.client.cookies[sessions.COOKIE])
        assert token is not None
        visitor.client.cookies.set(sessions.COOKIE, f"{token}.{'0' * 64}", domain="moers.test")
        assert (await visitor.get("/home")).status_code == 303


async def test_post_without_a_valid_csrf_token_is_refused(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as visitor:
        await visitor.log_in("alice")
        missing = await visitor.client.post("/statuses", data={"status": "ohne Token"})
        forged = await visitor.client.post("/statuses", data={"status": "gefälscht", "csrf_token": "0" * 64})
        home = await visitor.get("/home")
    for response in (missing, forged):
        assert response.status_code == 403 and "Formular abgelaufen" in response.text
    assert "ohne Token" not in home.text and "gefälscht" not in home.text


async def test_language_follows_browser_then_cookie_then_account(moers: City) -> None:
    await moers.create_account("alice")
    async with Visitor(moers) as visitor:
        assert "Anmelden" in (await visitor.get("/")).text  # German without any hint
        english = await visitor.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"})
        assert "Log in" in english.text and '<html lang="en">' in english.text
        await visitor.submit("/", "/language", {"language": "en", "next": "/"})
        assert "Log in" in (await visitor.get("/")).text
        await visitor.log_in("alice")  # alice's account says German: it wins over the cookie
        assert "Abmelden" in (await visitor.get("/home")).text
        await visitor.submit("/settings", "/language", {"language": "en", "next": "/settings"})
    async with Visitor(moers) as fresh:
        await fresh.log_in("alice")
        assert "Log out" in (await fresh.get("/home")).text  # kept on the account
        refused = await fresh.submit("/settings", "/language", {"language": "xx"})
    assert refused.status_code == 422


def test_accept_language_is_read_by_quality() -> None:
    assert i18n.from_accept_language("fr, en;q=0.8, de;q=0.9") == "de"
    assert i18n.from_accept_language("en-US") == "en"
    assert i18n.from_accept_language("fr, it") is None
    assert i18n.from_accept_language("de;q=0, en;q=0.1") == "en"
    assert i18n.pick(None, None, None) == "de"
    assert i18n.pick("en", "de", "de") == "en"
    assert i18n.pick("pt-BR", "en", "de") == "en"
