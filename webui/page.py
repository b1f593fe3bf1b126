"""One web request: the signed-in account, the language, the CSRF token, the form; and `page()`, which wraps
every handler (session, CSRF check on POST, log-in requirement, refusals shown as pages a person understands)."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from fedserver.db import utcnow
from fedserver.ids import InvalidId, parse_id
from fedserver.local import web_sessions
from fedserver.local.errors import Invalid, LocalError, NotAllowed, NotFound
from fedserver.local.models.accounts import Account
from fedserver.site import Site
from webui import csrf, i18n, messages, navigation, rendering, sessions

log = logging.getLogger(__name__)
LANGUAGE_COOKIE = i18n.LANGUAGE_COOKIE  # the consent page (api/oauth) reads the same cookie
MAX_FORM_FIELDS = 100
READS = ("GET", "HEAD")


class LoginRequired(Exception):
    """The page is for signed-in residents."""


class PageError(Exception):
    """A refusal shown as an error page: status, title and message are already in the page's language."""

    def __init__(self, status_code: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status_code, self.title, self.message = status_code, title, message


@dataclass(frozen=True)
class Viewer:
    """What the layout shows of the signed-in resident; plain values, so that error pages can be drawn after
    a rollback has expired the account's rows."""

    username: str
    display_name: str
    locale: str

    @classmethod
    def of(cls, account: Account | None) -> Viewer | None:
        if account is None:
            return None
        return cls(account.actor.username, account.actor.display_name or account.actor.username, account.locale)


@dataclass
class Page:
    request: Request
    site: Site
    session: AsyncSession
    now: datetime
    account: Account | None
    language: str
    csrf_cookie: str
    session_token: str | None = None
    viewer: Viewer | None = None
    form: FormData | None = None
    after: list[Callable[[Response], None]] = field(default_factory=list)  # cookie changes for the answer

    @property
    def me(self) -> Account:
        if self.account is None:
            raise LoginRequired()
        return self.account

    @property
    def secure(self) -> bool:
        return self.site.settings.scheme == "https"

    def gettext(self, message: str, **values: Any) -> str:
        text = i18n.translations(self.language).gettext(message)
        return text % values if values else text

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else default

    def file(self, name: str) -> UploadFile | None:
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, UploadFile) and value.filename else None

    def path_id(self, name: str = "id") -> int:
        try:
            return parse_id(str(self.request.path_params[name]), name)
        except InvalidId:
            raise NotFound("no such id") from None

    def query_id(self, name: str) -> int | None:
        """A paging cursor from the query string; a garbled one is a 400 page."""
        value = self.request.query_params.get(name)
        try:
            return parse_id(value, name) if value else None
        except InvalidId:
            raise PageError(400, self.gettext("Invalid page"),
                            self.gettext("This link to a page of posts is broken.")) from None

    def back(self, default: str = "/home") -> str:
        """Where a form wants to return to: a path on this site only (never another host)."""
        target = self.field("next") or self.request.query_params.get("next", "")
        return target if target.startswith("/") and not target.startswith(("//", "/\\")) else default

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = rendering.render(self.language, template, {
            "page": self, "city": self.site.settings.city, "urls": self.site.urls, "request": self.request,
            "viewer": self.viewer, "navigation": navigation.items_for(self.viewer is not None),
            "csrf_token": csrf.token_for(self.site.secret_key, self.csrf_cookie), **context})
        return HTMLResponse(html, status_code)

    def redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)  # after a POST the browser GETs the next page

    def sign_in(self, token: str) -> None:
        self.after.append(lambda response: sessions.set_cookie(response, self.site.secret_key, token,
                                                                secure=self.secure))

    def sign_out(self) -> None:
        self.after.append(lambda response: sessions.clear_cookie(response, secure=self.secure))

    def remember_language(self, language: str) -> None:
        self.after.append(lambda response: response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=60 * 60 * 24 * 365, httponly=True, samesite="lax",
            secure=self.secure, path="/"))


Handler = Callable[[Page], Awaitable[Response]]


def page(*, login: bool = False) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler; login=True sends visitors who are not signed in to the log-in page. A POST is one write
    transaction and must carry the CSRF token; a GET only reads (see _transaction). Either is rolled back when
    the handler refuses."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            site: Site = request.app.state.site
            try:
                async with site.sessions() as session:
                    response = await _run(handler, request, site, session, login)
            finally:
                await request.close()  # uploads are spooled to temporary files
            response.headers.update(rendering.SECURITY_HEADERS)
            response.headers.setdefault("Cache-Control", "no-store")  # pages show who is signed in
            return response

        return run

    return wrap


async def _run(handler: Handler, request: Request, site: Site, session: AsyncSession, login: bool) -> Response:
    current: Page | None = None
    try:
        async with _transaction(session, writes=request.method not in READS):
            current = await _start(request, site, session)
            response = await _handle(handler, current, login)
    except LoginRequired:
        response = RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    except (PageError, LocalError) as exc:  # the transaction has been rolled back: nothing was changed
        if current is None:
            raise
        response = _error(current, exc)
    assert current is not None
    for change in current.after:
        change(response)
    if request.cookies.get(csrf.COOKIE) != current.csrf_cookie:
        response.set_cookie(csrf.COOKIE, current.csrf_cookie, httponly=True, samesite="lax",
                            secure=current.secure, path="/")
    return response


@contextlib.asynccontextmanager
async def _transaction(session: AsyncSession, *, writes: bool) -> AsyncIterator[None]:
    """A form's POST is one write transaction (BEGIN IMMEDIATE on SQLite). A page view only reads: it takes no
    write lock, so it neither waits for the workers' writes nor holds them up; a rare write on the way (a
    session's last use, every few minutes) begins its own transaction and is committed at the end."""
    if writes:
        async with session.begin():
            yield
        return
    try:
        yield
    except BaseException:
        await session.rollback()
        raise
    await session.commit()


async def _handle(handler: Handler, current: Page, login: bool) -> Response:
    request = current.request
    if request.method == "POST":
        current.form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=2)
        if not csrf.is_valid(current.site.secret_key, request.cookies.get(csrf.COOKIE), current.field(csrf.FIELD)):
            raise PageError(403, current.gettext("Form expired"), current.gettext(
                "This form has expired or did not come from this site. Please go back, reload the page "
                "and try again."))
    if login and current.account is None:
        raise LoginRequired()
    return await handler(current)


async def _start(request: Request, site: Site, session: AsyncSession) -> Page:
    now = utcnow()
    token = sessions.decode(site.secret_key, request.cookies.get(sessions.COOKIE))
    account = await web_sessions.account_of(session, token, now=now) if token else None
    language = i18n.pick(account.locale if account else None, request.cookies.get(LANGUAGE_COOKIE),
                         request.headers.get("accept-language"))
    current = Page(request=request, site=site, session=session, now=now, account=account, language=language,
                   csrf_cookie=request.cookies.get(csrf.COOKIE) or csrf.new_secret(), session_token=token,
                   viewer=Viewer.of(account))
    if token and account is None:
        current.sign_out()  # a cookie of an ended session: drop it
    return current


def _error(current: Page, exc: PageError | LocalError) -> Response:
    if isinstance(exc, PageError):
        status_code, title, message = exc.status_code, exc.title, exc.message
    elif isinstance(exc, NotFound):
        status_code, title = 404, current.gettext("Not found")
        message = current.gettext("This page does not exist, or you may not see it.")
    elif isinstance(exc, NotAllowed):
        status_code, title, message = 403, current.gettext("Not allowed"), messages.translated(current, exc)
    else:
        status_code, title = 422, current.gettext("That did not work")
        message = messages.translated(current, exc)
    return current.render("error.html", status_code, title=title, message=message)
