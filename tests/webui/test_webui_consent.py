"""The OAuth consent page (/oauth/authorize) in the web UI's look and language; a resident signed in to the web
UI only approves, without typing the password again (as on Mastodon)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

from fedserver.local import accounts, web_sessions
from tests.cities import PASSWORD, City
from tests.webui.browser import Visitor

OOB = "urn:ietf:wg:oauth:2.0:oob"
CODE = re.compile(r'id="authorization-code" class="code">([^<]+)<')


async def _app(city: City, redirect_uri: str = OOB) -> dict[str, str]:
    response = await city.client.post("/api/v1/apps", json={"client_name": "Stadtplan", "redirect_uris": redirect_uri,
                                                            "scopes": "read write"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _authorize_url(app: dict[str, str], redirect_uri: str = OOB) -> str:
    return "/oauth/authorize?" + urlencode({"client_id": app["client_id"], "redirect_uri": redirect_uri,
                                            "response_type": "code", "scope": "read write", "state": "s1"})


def _fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


async def _owner_of(city: City, app: dict[str, str], code: str) -> str:
    token = await city.client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": app["client_id"],
        "client_secret": app["client_secret"], "redirect_uri": OOB})
    assert token.status_code == 200, token.text
    me = await city.client.get("/api/v1/accounts/verify_credentials",
                               headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    return str(me.json()["username"])


async def test_consent_page_has_the_web_ui_look_and_asks_for_the_password(moers: City) -> None:
    await moers.create_account("alice")
    app = await _app(moers)
    async with Visitor(moers) as browser:
        page = await browser.get(_authorize_url(app))
        assert page.status_code == 200
        html = page.text
        assert '<link rel="stylesheet" href="/static/site.css">' in html and 'class="site-header"' in html
        assert 'class="site-footer"' in html and html.count("<form") == 1
        assert 'name="password" type="password" autocomplete="current-password" required' in html
        answer = await browser.client.post("/oauth/authorize", data={
            **_fields(html), "username": "alice", "password": PASSWORD, "decision": "approve"})
    assert answer.status_code == 200 and 'class="site-header"' in answer.text
    code = CODE.search(answer.text)
    assert code is not None and await _owner_of(moers, app, code[1]) == "alice"


async def test_signed_in_resident_only_approves(moers: City) -> None:
    await moers.create_account("alice")
    app = await _app(moers)
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        page = await alice.get(_authorize_url(app))
        assert "angemeldet als <strong>@alice</strong>" in page.text and "required" not in page.text
        answer = await alice.client.post("/oauth/authorize", data={**_fields(page.text), "decision": "approve"})
    code = CODE.search(answer.text)
    assert answer.status_code == 200 and code is not None
    assert await _owner_of(moers, app, code[1]) == "alice"


async def test_logging_in_from_the_consent_page_comes_back_to_it(moers: City) -> None:
    await moers.create_account("alice")
    app = await _app(moers)
    async with Visitor(moers) as alice:
        consent = await alice.get(_authorize_url(app))
        login_link = re.search(r'<a href="(/login\?next=[^"]+)">Anmelden</a>', consent.text)
        assert login_link is not None
        login_path = login_link[1].replace("&amp;", "&")
        answer = await alice.submit(login_path, "/login", {
            "login": "alice", "password": PASSWORD, "next": parse_qs(urlsplit(login_path).query)["next"][0]})
        location = urlsplit(answer.headers["location"])
        assert answer.status_code == 303 and location.path == "/oauth/authorize"
        assert parse_qs(location.query) == parse_qs(urlsplit(_authorize_url(app)).query)
        back = await alice.get(answer.headers["location"])
    assert "angemeldet als <strong>@alice</strong>" in back.text


async def test_signed_in_resident_may_name_another_account(moers: City) -> None:
    await moers.create_account("alice")
    await moers.create_account("bob")
    app = await _app(moers)
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        page = await alice.get(_authorize_url(app))
        wrong = await alice.client.post("/oauth/authorize", data={
            **_fields(page.text), "username": "bob", "password": "falsch-falsch", "decision": "approve"})
        answer = await alice.client.post("/oauth/authorize", data={
            **_fields(page.text), "username": "bob", "password": PASSWORD, "decision": "approve"})
    assert wrong.status_code == 401 and CODE.search(wrong.text) is None
    code = CODE.search(answer.text)
    assert code is not None and await _owner_of(moers, app, code[1]) == "bob"


async def test_a_forged_or_ended_session_still_needs_the_password(moers: City) -> None:
    await moers.create_account("alice")
    app = await _app(moers)
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        cookie = alice.client.cookies[web_sessions.COOKIE]
        await alice.submit("/home", "/logout")
        alice.client.cookies.set(web_sessions.COOKIE, cookie, domain="moers.test")  # the ended session's cookie
        page = await alice.get(_authorize_url(app))
        refused = await alice.client.post("/oauth/authorize", data={**_fields(page.text), "decision": "approve"})
    assert "angemeldet als" not in page.text and 'autocomplete="current-password" required' in page.text
    assert refused.status_code == 401 and CODE.search(refused.text) is None


async def test_denying_sends_the_browser_back_with_access_denied(moers: City) -> None:
    await moers.create_account("alice")
    redirect_uri = "https://stadtplan.example/callback"
    app = await _app(moers, redirect_uri)
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        page = await alice.get(_authorize_url(app, redirect_uri))
        denied = await alice.client.post("/oauth/authorize", data={**_fields(page.text), "decision": "deny"})
        approved = await alice.client.post("/oauth/authorize", data={**_fields(page.text), "decision": "approve"})
    assert denied.status_code == 302
    assert parse_qs(urlsplit(denied.headers["location"]).query) == {"error": ["access_denied"], "state": ["s1"]}
    query = parse_qs(urlsplit(approved.headers["location"]).query)
    assert approved.headers["location"].startswith(redirect_uri) and query["state"] == ["s1"] and query["code"]


async def test_consent_page_speaks_the_web_uis_language(moers: City) -> None:
    """German first; English for a browser that asks for it, the web UI's `lang` cookie, or a resident whose
    setting is English (the setting wins over the browser, as in the web UI); errors too."""
    await moers.create_account("alice")
    app = await _app(moers)
    async with Visitor(moers) as anyone:
        german = await anyone.get(_authorize_url(app))
        english = await anyone.get(_authorize_url(app), headers={"Accept-Language": "en-GB,en;q=0.9,de;q=0.5"})
        anyone.client.cookies.set("lang", "en", domain="moers.test")
        by_cookie = await anyone.get(_authorize_url(app), headers={"Accept-Language": "de"})
        wrong = await anyone.client.post("/oauth/authorize", data={
            **_fields(by_cookie.text), "username": "alice", "password": "falsch-falsch", "decision": "approve"})
    assert '<html lang="de">' in german.text and "Stadtplan möchte auf Ihr Konto zugreifen" in german.text
    assert ">Erlauben</button>" in german.text and ">Anmelden</a>" in german.text
    for page in (english, by_cookie):
        assert '<html lang="en">' in page.text and "Stadtplan wants to access your account" in page.text
        assert ">Allow</button>" in page.text and ">Deny</button>" in page.text and ">Log in</a>" in page.text
        assert "Erlauben" not in page.text and "Keine Algorithmen" not in page.text
    assert wrong.status_code == 401 and "The e-mail address, username or password is wrong." in wrong.text

    async with moers.site.sessions() as session, session.begin():
        (await accounts.find_by_username(session, "alice")).locale = "en"
    async with Visitor(moers) as alice:
        await alice.log_in("alice")
        signed_in = await alice.get(_authorize_url(app), headers={"Accept-Language": "de"})
        answer = await alice.client.post("/oauth/authorize", data={**_fields(signed_in.text), "decision": "approve"})
    assert "You are signed in as <strong>@alice</strong>. Allow Stadtplan to access this account?" in signed_in.text
    assert answer.status_code == 200 and "Copy this code into <strong>Stadtplan</strong>:" in answer.text


async def test_app_names_are_escaped_in_every_language(moers: City) -> None:
    response = await moers.client.post("/api/v1/apps", json={"client_name": "<b>Böse</b>", "redirect_uris": OOB,
                                                             "scopes": "read write"})
    app = dict(response.json())
    for language in ("de", "en"):
        page = await moers.client.get(_authorize_url(app), headers={"Accept-Language": language})
        assert page.status_code == 200, page.text
        assert "<b>Böse</b>" not in page.text and "&lt;b&gt;Böse&lt;/b&gt;" in page.text
