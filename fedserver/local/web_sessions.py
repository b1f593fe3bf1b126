"""Web sessions: a signed-in browser holds an access token of the city's own web app (as Mastodon's web UI
does), so that signing out, changing the password and deleting the account end the session on the server."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import oauth
from fedserver.local.models.accounts import Account
from fedserver.local.models.oauth import AccessToken, OAuthApp

WEB_CLIENT_ID = "fedserver-web"
WEB_SCOPES = "read write follow push"
# Not a URI any browser can be sent to: the web app never takes part in an OAuth redirect flow.
WEB_REDIRECT_URI = "urn:fedserver:web-session"
# The browser's cookie: the token with an HMAC of the site's secret, so that a tampered or foreign cookie is
# refused before the database is asked. The web UI sets it; the OAuth consent page reads it too.
COOKIE = "fedserver_session"


def _mac(secret_key: bytes, token: str) -> str:
    return hmac.new(secret_key, b"webui-session:" + token.encode(), hashlib.sha256).hexdigest()


def cookie_value(secret_key: bytes, token: str) -> str:
    """What the session cookie holds for a session token."""
    return f"{token}.{_mac(secret_key, token)}"


def token_in(secret_key: bytes, value: str | None) -> str | None:
    """The session token in a cookie's value, or None when there is none or its signature does not match."""
    token, _, mac = (value or "").rpartition(".")
    if not token or not hmac.compare_digest(_mac(secret_key, token), mac):
        return None
    return token


async def web_app(session: AsyncSession) -> OAuthApp:
    """The built-in web app, created on first use; its secret is random and never shown to anyone."""
    app = (await session.scalars(select(OAuthApp).where(OAuthApp.client_id == WEB_CLIENT_ID))).first()
    if app is None:
        app = OAuthApp(client_id=WEB_CLIENT_ID, client_secret_hash=oauth.digest(secrets.token_urlsafe(32)),
                       name="Web", website=None, redirect_uris=WEB_REDIRECT_URI, scopes=WEB_SCOPES)
        session.add(app)
        await session.flush()
    return app


async def open_session(session: AsyncSession, account: Account, *, now: datetime) -> str:
    """Start a web session for an account that may log in; returns the secret the cookie carries."""
    issued = await oauth.issue(session, await web_app(session), account.id, WEB_SCOPES, now=now)
    return issued.access_token


async def account_of(session: AsyncSession, token: str, *, now: datetime) -> Account | None:
    """The account of a live web session; None once it was closed, or the account deleted, suspended
    or not (yet) approved. One query: every page asks it, so it is not oauth.authenticate plus an app lookup."""
    found = (await session.execute(
        select(AccessToken, Account).join(Account, Account.id == AccessToken.account_id)
        .join(OAuthApp, OAuthApp.id == AccessToken.app_id)
        .where(AccessToken.token_hash == oauth.digest(token), OAuthApp.client_id == WEB_CLIENT_ID))).first()
    if found is None:
        return None
    row, account = found
    if account.is_suspended or not account.is_approved:
        return None
    if oauth.use_is_due(row, now):
        await oauth.record_use(session, row.id, account.id, now=now)
    return account


async def close_session(session: AsyncSession, token: str) -> None:
    """Sign one browser out: its token stops working at once."""
    await oauth.revoke(session, await web_app(session), token)


async def close_all(session: AsyncSession, account_id: int) -> None:
    """End every session and app token of an account (after a password change: whoever knew the old
    password is signed out everywhere)."""
    await session.execute(delete(AccessToken).where(AccessToken.account_id == account_id))
