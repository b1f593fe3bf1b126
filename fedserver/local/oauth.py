"""OAuth 2 rules: registering apps, codes with PKCE, tokens with scopes, revocation."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from fedserver.local import accounts
from fedserver.local.errors import Invalid, NotAllowed, NotFound
from fedserver.local.models.accounts import Account
from fedserver.local.models.oauth import AccessToken, AuthorizationCode, OAuthApp
from fedserver.local.scopes import grants, normalise_scopes

OUT_OF_BAND = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)


class OAuthError(Invalid):
    """An RFC 6749 error: `code` is the error name (invalid_grant, invalid_client ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__("oauth", code, message)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    refresh_token: str | None
    scopes: str
    created_at: datetime


def digest(secret: str) -> str:
    """SHA-256 of a secret, as stored; tokens have 256 bits of entropy, so no salt is needed."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


async def register_app(session: AsyncSession, *, name: str, redirect_uris: str, scopes: str,
                       website: str | None, now: datetime) -> tuple[OAuthApp, str]:
    """Register a client; returns the app and its secret (shown once, stored only as a digest)."""
    if not name.strip():
        raise Invalid("client_name", "ERR_BLANK", "client_name is required")
    uris = [uri.strip() for uri in redirect_uris.replace("\r", "").split("\n") if uri.strip()]
    if not uris:
        raise Invalid("redirect_uris", "ERR_BLANK", "redirect_uris is required")
    for uri in uris:
        if uri != OUT_OF_BAND and ("://" not in uri or "#" in uri):
            raise Invalid("redirect_uris", "ERR_INVALID", f"{uri!r} is not an absolute URI without fragment")
    secret = secrets.token_urlsafe(32)
    app = OAuthApp(client_id=secrets.token_urlsafe(32), client_secret_hash=digest(secret), name=name.strip()[:255],
                   website=(website or None), redirect_uris="\n".join(uris), scopes=normalise_scopes(scopes),
                   created_at=now)
    session.add(app)
    await session.flush()
    return app, secret


async def find_app(session: AsyncSession, client_id: str) -> OAuthApp:
    """The app with this client_id; raises OAuthError(invalid_client)."""
    app = (await session.scalars(select(OAuthApp).where(OAuthApp.client_id == client_id))).first()
    if app is None:
        raise OAuthError("invalid_client", "unknown client_id")
    return app


def check_secret(app: OAuthApp, client_secret: str | None) -> None:
    """Raise invalid_client unless the secret matches (compared in constant time)."""
    if client_secret is None or not hmac.compare_digest(app.client_secret_hash, digest(client_secret)):
        raise OAuthError("invalid_client", "client authentication failed")


def check_redirect_uri(app: OAuthApp, redirect_uri: str) -> None:
    """Exact matching against a registered URI (RFC 6749 3.1.2.3; OAuth 2.1)."""
    if redirect_uri not in app.redirect_uris.split("\n"):
        raise OAuthError("invalid_request", "redirect_uri does not match a registered one")


def requested_scopes(app: OAuthApp, scope: str | None) -> str:
    """The scopes asked for, defaulting to `read`, each of which the app registered."""
    asked = normalise_scopes(scope or "read")
    registered = set(app.scopes.split())
    for item in asked.split():
        if not grants(registered, item):
            raise OAuthError("invalid_scope", f"the app did not register the scope {item!r}")
    return asked


async def create_code(session: AsyncSession, app: OAuthApp, account: Account, *, redirect_uri: str, scopes: str,
                      code_challenge: str | None, challenge_method: str | None, now: datetime) -> str:
    """A one-time code after the resident consented on the authorize page."""
    if code_challenge is not None and (challenge_method or "plain") != "S256":
        raise OAuthError("invalid_request", "only code_challenge_method=S256 is supported")
    code = secrets.token_urlsafe(32)
    session.add(AuthorizationCode(code_hash=digest(code), app_id=app.id, account_id=account.id,
                                  redirect_uri=redirect_uri, scopes=scopes, code_challenge=code_challenge,
                                  expires_at=now + CODE_LIFETIME))
    await session.flush()
    return code


async def exchange_code(session: AsyncSession, app: OAuthApp, *, code: str, redirect_uri: str,
                        code_verifier: str | None, now: datetime) -> IssuedToken:
    """authorization_code grant: the code is used up whatever happens next."""
    row = (await session.scalars(select(AuthorizationCode).where(AuthorizationCode.code_hash == digest(code)))).first()
    if row is None or row.app_id != app.id:
        raise OAuthError("invalid_grant", "the authorization code is unknown or was used already")
    await session.execute(delete(AuthorizationCode).where(AuthorizationCode.id == row.id))
    if row.expires_at < now:
        raise OAuthError("invalid_grant", "the authorization code has expired")
    if row.redirect_uri != redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri differs from the one used to get the code")
    if row.code_challenge is not None:
        if not code_verifier or not hmac.compare_digest(row.code_challenge, _s256(code_verifier)):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge (PKCE)")
    return await issue(session, app, row.account_id, row.scopes, now=now)


async def password_grant(session: AsyncSession, app: OAuthApp, *, username: str, password: str, scopes: str,
                         now: datetime) -> IssuedToken:
    """password grant (toot login_cli, Mastodon.py): the username may be the e-mail address."""
    account = await accounts.authenticate(session, username, password)
    if account is None:
        raise OAuthError("invalid_grant", "the e-mail address or password is wrong")
    _check_may_log_in(account)
    return await issue(session, app, account.id, scopes, now=now)


async def refresh(session: AsyncSession, app: OAuthApp, *, refresh_token: str, now: datetime) -> IssuedToken:
    """refresh_token grant: the old token is replaced by a new pair."""
    old = (await session.scalars(select(AccessToken).where(
        AccessToken.refresh_token_hash == digest(refresh_token), AccessToken.app_id == app.id))).first()
    if old is None:
        raise OAuthError("invalid_grant", "the refresh token is unknown")
    await session.execute(delete(AccessToken).where(AccessToken.id == old.id))
    return await issue(session, app, old.account_id, old.scopes, now=now)


async def issue(session: AsyncSession, app: OAuthApp, account_id: int | None, scopes: str, *,
                now: datetime) -> IssuedToken:
    """A new access token (and a refresh token for user tokens)."""
    access, refresh_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32) if account_id else None
    session.add(AccessToken(token_hash=digest(access), refresh_token_hash=digest(refresh_token) if refresh_token else None,
                            app_id=app.id, account_id=account_id, scopes=scopes, created_at=now))
    await session.flush()
    return IssuedToken(access, refresh_token, scopes, now)


async def revoke(session: AsyncSession, app: OAuthApp, token: str) -> None:
    """RFC 7009: revoke an access or refresh token of this app; unknown tokens are not an error."""
    hashed = digest(token)
    await session.execute(delete(AccessToken).where(
        AccessToken.app_id == app.id,
        (AccessToken.token_hash == hashed) | (AccessToken.refresh_token_hash == hashed)))


# The token and its account in one statement (one trip, not two). Account.actor is eager-loaded with an inner
# join, which after the outer join would drop app-only tokens (no account): here it is an outer join too.
_TOKEN_AND_ACCOUNT = (select(AccessToken, Account)
                      .outerjoin(Account, Account.id == AccessToken.account_id)
                      .options(joinedload(Account.actor, innerjoin=False))
                      .where(AccessToken.token_hash == bindparam("token_hash")))


async def authenticate(session: AsyncSession, token: str, *, now: datetime,
                       record: bool = True) -> tuple[AccessToken, Account | None]:
    """The token's row and account; raises NotFound for unknown tokens, NotAllowed for suspended accounts.
    With record=False the caller records the use itself (use_is_due, record_use) in a write transaction."""
    found = (await session.execute(_TOKEN_AND_ACCOUNT, {"token_hash": digest(token)})).first()
    if found is None:
        raise NotFound("the access token is invalid")
    row, account = found
    if account is not None:
        _check_may_log_in(account)
        if record and use_is_due(row, now):
            await record_use(session, row.id, account.id, now=now)
    return row, account


def use_is_due(row: AccessToken, now: datetime) -> bool:
    """Recording use at most every five minutes keeps reads from turning into writes."""
    return row.account_id is not None and (row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5))


async def record_use(session: AsyncSession, token_id: int, account_id: int, *, now: datetime) -> None:
    """When the token and its account were last used (the instance's activity counts read them)."""
    await session.execute(update(AccessToken).where(AccessToken.id == token_id).values(last_used_at=now))
    await session.execute(update(Account).where(Account.id == account_id).values(last_active_at=now))


def _check_may_log_in(account: Account) -> None:
    if account.is_suspended:
        raise NotAllowed("this account is suspended")
    if not account.is_approved:
        raise NotAllowed("this account is waiting for approval by the city's moderators")


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


async def app_of(session: AsyncSession, token: AccessToken) -> OAuthApp:
    app = await session.get(OAuthApp, token.app_id)
    if app is None:
        raise NotFound("the token's app is gone")
    return app
