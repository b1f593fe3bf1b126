"""/oauth/authorize: the log-in and consent page, with the out-of-band code page toot reads."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from fedserver import i18n
from fedserver.db import utcnow
from fedserver.local import accounts, oauth, web_sessions
from fedserver.local.models.accounts import Account
from fedserver.site import Site

HERE = Path(__file__).parent
CATALOGUES = HERE / "translations"


def N_(message: str) -> str:
    """Marks a message for the catalogue (webui/catalogue.py extracts it); it is translated where it is shown."""
    return message


FORM_EXPIRED = N_("This form has expired. Please try again.")
WRONG_LOGIN = N_("The e-mail address, username or password is wrong.")


@lru_cache(maxsize=None)
def _templates(language: str) -> Environment:
    """The page's templates speaking one language (an environment each: rendering installs nothing per request)."""
    environment = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                              extensions=["jinja2.ext.i18n"])
    catalogue = i18n.catalogue(CATALOGUES, language)
    environment.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
    return environment


_CARRIED = ("client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "response_type")
_HEADERS = {"Content-Security-Policy": "default-src 'self'; style-src 'self'; form-action 'self' *; frame-ancestors 'none'",
            "X-Frame-Options": "DENY", "Cache-Control": "no-store", "Referrer-Policy": "same-origin"}
CSRF_COOKIE = "fedserver_csrf"


async def authorize(request: Request) -> Response:
    site: Site = request.app.state.site
    params = dict(request.query_params) if request.method == "GET" else {
        key: str(value) for key, value in (await request.form()).items()}
    language = _language(request, None)
    async with site.sessions() as session, session.begin():
        try:
            app = await oauth.find_app(session, params.get("client_id", ""))
            redirect_uri = params.get("redirect_uri", "")
            oauth.check_redirect_uri(app, redirect_uri)
            scopes = oauth.requested_scopes(app, params.get("scope"))
            if params.get("response_type", "code") != "code":
                raise oauth.OAuthError("unsupported_response_type", "only response_type=code is supported")
        except oauth.OAuthError as exc:
            return _page(request, site, 400, language, app_name="?", error=str(exc), params={})
        signed_in = await _web_session_account(request, site, session)
        shown = signed_in.actor.username if signed_in is not None else ""
        language = _language(request, signed_in)
        if request.method == "GET":
            return _page(request, site, 200, language, app_name=app.name, scopes=scopes, params=params,
                         signed_in=shown)
        if not _csrf_ok(request, params.get("csrf_token", "")):
            return _page(request, site, 403, language, app_name=app.name, scopes=scopes, params=params,
                         signed_in=shown, error=FORM_EXPIRED)
        if params.get("decision") == "deny":
            return _redirect(redirect_uri, {"error": "access_denied", "state": params.get("state")})
        typed = params.get("username", "") or params.get("password", "")
        # Signed in to the web UI: approving is enough (as on Mastodon); typed credentials name another account.
        account = signed_in if signed_in is not None and not typed else await accounts.authenticate(
            session, params.get("username", ""), params.get("password", ""))
        if account is None:
            return _page(request, site, 401, language, app_name=app.name, scopes=scopes, params=params,
                         signed_in=shown, error=WRONG_LOGIN, username=params.get("username", ""))
        code = await oauth.create_code(session, app, account, redirect_uri=redirect_uri, scopes=scopes,
                                       code_challenge=params.get("code_challenge") or None,
                                       challenge_method=params.get("code_challenge_method") or None, now=utcnow())
    if redirect_uri == oauth.OUT_OF_BAND:
        return _page(request, site, 200, language, app_name=app.name, code=code, params={})
    return _redirect(redirect_uri, {"code": code, "state": params.get("state")})


def _redirect(redirect_uri: str, values: dict[str, str | None]) -> Response:
    query = urlencode({key: value for key, value in values.items() if value})
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{query}", status_code=302, headers={"Cache-Control": "no-store"})


async def _web_session_account(request: Request, site: Site, session: AsyncSession) -> Account | None:
    """The resident signed in to the web UI in this browser, if any (its session cookie, checked)."""
    token = web_sessions.token_in(site.secret_key, request.cookies.get(web_sessions.COOKIE))
    return await web_sessions.account_of(session, token, now=utcnow()) if token else None


def _language(request: Request, signed_in: Account | None) -> str:
    """The web UI's choice (fedserver/i18n.py): the signed-in resident's setting, the `lang` cookie, the browser."""
    return i18n.pick(signed_in.locale if signed_in is not None else None, request.cookies.get(i18n.LANGUAGE_COOKIE),
                     request.headers.get("accept-language"))


def _page(request: Request, site: Site, status_code: int, language: str, *, app_name: str, params: dict[str, str],
          scopes: str = "", error: str = "", code: str = "", username: str = "", signed_in: str = "") -> HTMLResponse:
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    hidden = {key: params[key] for key in _CARRIED if params.get(key)}
    html = _templates(language).get_template("authorize.html").render(
        language=language, city=site.settings.city.name, app_name=app_name, scopes=scopes,
        error=i18n.catalogue(CATALOGUES, language).gettext(error) if error else "", code=code, username=username,
        signed_in=signed_in, hidden=hidden, csrf=_sign(site, token),
        return_to=f"/oauth/authorize?{urlencode(hidden)}" if hidden else "")  # the web UI's log-in comes back here
    response = HTMLResponse(html, status_code, headers=_HEADERS)
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=site.settings.scheme == "https",
                        path="/oauth")
    return response


def _sign(site: Site, token: str) -> str:
    return hmac.new(site.secret_key, token.encode(), hashlib.sha256).hexdigest()


def _csrf_ok(request: Request, submitted: str) -> bool:
    """Double submit: the form carries an HMAC of the cookie's random value."""
    site: Site = request.app.state.site
    cookie = request.cookies.get(CSRF_COOKIE)
    return bool(cookie) and hmac.compare_digest(_sign(site, cookie or ""), submitted)


ROUTES = [
    Route("/oauth/authorize", authorize, methods=["GET", "POST"]),
    Route("/oauth/authorize/", authorize, methods=["GET", "POST"]),  # toot opens it with a trailing slash
]
