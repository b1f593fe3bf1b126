"""An account's beginning and end through the API: POST /api/v1/accounts (Mastodon's registration with an
app token) and POST /api/v1/fedserver/accounts/delete (ours: Mastodon has no client endpoint for it)."""
from __future__ import annotations

import logging
from typing import Any

from starlette.routing import Route

from fedserver.api.mastodon.call import ApiError, Call, endpoint
from fedserver.local import account_deletion, avatars, oauth, passwords, registration
from fedserver.local.errors import Invalid

log = logging.getLogger(__name__)


@endpoint(scope="write:accounts", write=True)
async def register(call: Call) -> dict[str, Any]:
    """Sign up and answer a Token; in approval mode the token works once moderators approve the account."""
    assert call.token is not None  # the endpoint is not public: a token was checked
    account = await registration.register(
        call.session, call.site.urls, call.site.settings.registrations, username=call.text("username") or "",
        email=call.text("email") or "", password=call.text("password") or "", agreement=call.flag("agreement"),
        locale=call.text("locale") or None, reason=call.text("reason"), now=call.now)
    app = await oauth.app_of(call.session, call.token)
    issued = await oauth.issue(call.session, app, account.id, call.token.scopes, now=call.now)
    call.headers["Cache-Control"] = "no-store"
    body: dict[str, Any] = {"access_token": issued.access_token, "token_type": "Bearer", "scope": issued.scopes,
                            "created_at": int(issued.created_at.timestamp())}
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    return body


@endpoint(scope="write:accounts", user=True, write=True)
async def delete_own_account(call: Call) -> dict[str, Any]:
    """Delete the signed-in account for good (the password confirms it); peers are sent Delete{actor}."""
    password = call.text("password")
    if not password:
        raise ApiError(400, "Param is missing or the value is empty: password")
    if not passwords.verify_password(call.me.password_hash, password):
        raise Invalid("password", "ERR_INVALID", "the password is wrong")
    deletion = await account_deletion.delete_account(call.session, call.site.urls, call.me, call.now)
    await call.session.commit()
    # Profile pictures go only after the commit: had it failed, the account would still show them.
    avatars.remove(call.site.settings.media_dir, deletion.files)
    log.info("account %s deleted; Delete queued to %d inboxes", deletion.actor_ap_id, len(deletion.inbox_urls))
    return {}


ROUTES = [
    Route("/api/v1/accounts", register, methods=["POST"]),
    Route("/api/v1/fedserver/accounts/delete", delete_own_account, methods=["POST"]),
]
