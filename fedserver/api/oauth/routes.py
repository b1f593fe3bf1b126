"""OAuth 2 endpoints: app registration, token (four grants), revoke, and the server metadata."""
from __future__ import annotations

import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.local import oauth
from fedserver.local.models.oauth import OAuthApp
from fedserver.local.scopes import KNOWN
from fedserver.site import Site

GRANT_TYPES = ["authorization_code", "password", "client_credentials", "refresh_token"]


def render_app(app: OAuthApp, client_secret: str | None = None) -> dict[str, Any]:
    """Application entity; the secret only in the answer to registration (it is stored hashed)."""
    uris = app.redirect_uris.split("\n")
    entity: dict[str, Any] = {"id": str(app.id), "name": app.name, "website": app.website,
                              "scopes": app.scopes.split(), "redirect_uri": "\n".join(uris), "redirect_uris": uris,
                              "vapid_key": ""}
    if client_secret is not None:
        entity |= {"client_id": app.client_id, "client_secret": client_secret, "client_secret_expires_at": 0}
    return entity


@endpoint(public=True, write=True)
async def create_app(call: Call) -> dict[str, Any]:
    """POST /api/v1/apps (JSON or form; toot sends JSON)."""
    redirect = call.params.get("redirect_uris", "")
    app, secret = await oauth.register_app(
        call.session, name=call.text("client_name") or "", website=call.text("website"), now=call.now,
        redirect_uris="\n".join(redirect) if isinstance(redirect, list) else str(redirect),
        scopes=call.text("scopes") or "read")
    return render_app(app, secret)


@endpoint(public=False)
async def verify_app(call: Call) -> dict[str, Any]:
    """GET /api/v1/apps/verify_credentials: the app behind the token."""
    assert call.token is not None
    return render_app(await oauth.app_of(call.session, call.token))


@endpoint(public=True, write=True)
async def token(call: Call) -> Response | dict[str, Any]:
    """POST /oauth/token: authorization_code, password, client_credentials, refresh_token."""
    app = await _client(call)
    grant = call.text("grant_type") or ""
    if grant == "authorization_code":
        issued = await oauth.exchange_code(call.session, app, code=call.text("code") or "",
                                           redirect_uri=call.text("redirect_uri") or "",
                                           code_verifier=call.text("code_verifier"), now=call.now)
    elif grant == "password":
        issued = await oauth.password_grant(call.session, app, username=call.text("username") or "",
                                            password=call.text("password") or "",
                                            scopes=oauth.requested_scopes(app, call.text("scope")), now=call.now)
    elif grant == "client_credentials":
        issued = await oauth.issue(call.session, app, None, oauth.requested_scopes(app, call.text("scope")),
                                   now=call.now)
    elif grant == "refresh_token":
        issued = await oauth.refresh(call.session, app, refresh_token=call.text("refresh_token") or "", now=call.now)
    else:
        raise oauth.OAuthError("unsupported_grant_type", f"grant_type must be one of {', '.join(GRANT_TYPES)}")
    body: dict[str, Any] = {"access_token": issued.access_token, "token_type": "Bearer", "scope": issued.scopes,
                            "created_at": int(issued.created_at.timestamp())}
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    call.headers["Cache-Control"] = "no-store"
    return body


@endpoint(public=True, write=True)
async def revoke(call: Call) -> dict[str, Any]:
    """POST /oauth/revoke (RFC 7009): always 200 for a known client, even for an unknown token."""
    app = await _client(call)
    await oauth.revoke(call.session, app, call.text("token") or "")
    return {}


async def _client(call: Call) -> OAuthApp:
    """The client from the body or from HTTP Basic (RFC 6749 2.3.1); the secret is checked."""
    client_id, secret = call.text("client_id"), call.text("client_secret")
    header = call.request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(401, "invalid_client", {"error_description": "malformed Basic credentials"}) from None
    if not client_id:
        raise oauth.OAuthError("invalid_client", "client_id is missing")
    app = await oauth.find_app(call.session, client_id)
    oauth.check_secret(app, secret)
    return app


async def metadata(request: Request) -> Response:
    """RFC 8414 server metadata; Mastodon.py reads grant_types_supported before a password login."""
    from fedserver.api.responses import json_document

    site: Site = request.app.state.site
    base = site.urls.base_url
    return json_document({
        "issuer": f"{base}/", "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token", "revocation_endpoint": f"{base}/oauth/revoke",
        "app_registration_endpoint": f"{base}/api/v1/apps", "scopes_supported": sorted(KNOWN),
        "response_types_supported": ["code"], "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": GRANT_TYPES, "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "service_documentation": "https://docs.joinmastodon.org/",
    }, headers={"Access-Control-Allow-Origin": "*"})


ROUTES = [
    Route("/api/v1/apps", create_app, methods=["POST"]),
    Route("/api/v1/apps/verify_credentials", verify_app),
    Route("/oauth/token", token, methods=["POST"]),
    Route("/oauth/revoke", revoke, methods=["POST"]),
    Route("/.well-known/oauth-authorization-server", metadata),
]
