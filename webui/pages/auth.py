"""Signing up (as the city's registrations mode allows), logging in and out, and the interface language."""
from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from fedserver.local import accounts, registration, web_sessions
from fedserver.local.errors import Invalid, NotAllowed
from webui import i18n, messages
from webui.page import Page, PageError, page
from webui.throttle import THROTTLE


@page()
async def login_form(current: Page) -> Response:
    if current.account is not None:
        return current.redirect(current.back())
    return current.render("login.html", next=current.back(""))


@page()
async def login(current: Page) -> Response:
    client = current.request.client.host if current.request.client else "?"
    if THROTTLE.blocked(client):
        raise PageError(429, current.gettext("Too many attempts"),
                        current.gettext("Too many failed log-ins from your network. Please wait a few minutes."))
    login_name = current.field("login")
    account = await accounts.authenticate(current.session, login_name, current.field("password"))
    if account is None:
        THROTTLE.failed(client)
        return current.render("login.html", 401, login=login_name, next=current.back(""),
                              error=current.gettext("The e-mail address, username or password is wrong."))
    if account.is_suspended or not account.is_approved:
        message = (current.gettext("This account is suspended.") if account.is_suspended else
                   current.gettext("Your account is waiting for approval by the city's moderators."))
        return current.render("login.html", 403, login=login_name, next=current.back(""), error=message)
    current.sign_in(await web_sessions.open_session(current.session, account, now=current.now))
    return current.redirect(current.back())


@page()
async def logout(current: Page) -> Response:
    if current.session_token:
        await web_sessions.close_session(current.session, current.session_token)
    current.sign_out()
    return current.redirect("/")


@page()
async def signup_form(current: Page) -> Response:
    if current.account is not None:
        return current.redirect("/home")
    return current.render("signup.html", 403 if _closed(current) else 200, mode=current.site.settings.registrations,
                          values={})


@page()
async def signup(current: Page) -> Response:
    mode = current.site.settings.registrations
    values = {name: current.field(name) for name in ("username", "email", "reason")}
    try:
        account = await registration.register(
            current.session, current.site.urls, mode, username=values["username"], email=values["email"],
            password=current.field("password"), agreement=current.field("agreement") == "yes",
            locale=current.language, reason=values["reason"] or None, now=current.now)
    except NotAllowed:
        return current.render("signup.html", 403, mode=mode, values=values)
    except Invalid as exc:
        return current.render("signup.html", 422, mode=mode, values=values, error=messages.translated(current, exc),
                              error_field=exc.field)
    if not account.is_approved:
        return current.render("signup_pending.html")
    current.sign_in(await web_sessions.open_session(current.session, account, now=current.now))
    return current.redirect("/home")


@page()
async def choose_language(current: Page) -> Response:
    """Switch the interface language; a signed-in resident's choice is also kept on the account."""
    language = i18n.supported(current.field("language"))
    if language is None:
        raise PageError(422, current.gettext("Unknown language"),
                        current.gettext("This language is not available."))
    if current.account is not None:
        current.account.locale = language
    current.remember_language(language)
    return current.redirect(current.back("/"))


def _closed(current: Page) -> bool:
    return current.site.settings.registrations == registration.CLOSED


ROUTES = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/signup", signup_form, methods=["GET"]),
    Route("/signup", signup, methods=["POST"]),
    Route("/language", choose_language, methods=["POST"]),
]
