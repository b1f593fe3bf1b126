"""Tokens for API tests: an OAuth app and a user token made through the real OAuth service."""
from __future__ import annotations

from fedserver.db import utcnow
from fedserver.local import accounts, oauth
from tests.cities import City


async def token_for(city: City, username: str, scopes: str = "read write follow push") -> str:
    """A bearer token of `username` (which must exist) with the given scopes."""
    async with city.site.sessions() as session, session.begin():
        app, _secret = await oauth.register_app(session, name="tests", redirect_uris=oauth.OUT_OF_BAND,
                                                scopes=scopes, website=None, now=utcnow())
        account = await accounts.find_by_username(session, username)
        issued = await oauth.issue(session, app, account.id, scopes, now=utcnow())
    return issued.access_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
