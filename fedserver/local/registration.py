"""Registration through an app: the city's mode (open, approval, closed) and what a sign-up must carry."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import accounts
from fedserver.local.errors import Invalid, NotAllowed
from fedserver.local.models.accounts import Account
from fedserver.local.urls import LocalUrls

OPEN, APPROVAL, CLOSED = "open", "approval", "closed"
MAX_REASON = 420  # Mastodon's limit for the text of an invite request (app/models/user_invite_request.rb)
# A language tag as Mastodon keeps it for an account: de, en, pt-BR, zh-Hant ...
LOCALE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")


async def register(session: AsyncSession, urls: LocalUrls, mode: str, *, username: str, email: str, password: str,
                   agreement: bool, locale: str | None, reason: str | None, now: datetime) -> Account:
    """A resident signs up: refused when registrations are closed, held for approval in approval mode,
    where moderators need the reason to decide (Mastodon's invite request text)."""
    if mode == CLOSED:
        raise NotAllowed("registrations are closed on this server")
    for name, value in (("username", username), ("email", email), ("password", password)):
        if not value.strip():
            raise Invalid(name, "ERR_BLANK", f"{name} can't be blank")
    if not agreement:
        raise Invalid("agreement", "ERR_ACCEPTED", "you must accept the server's rules and terms")
    if locale is not None and not LOCALE.match(locale):
        raise Invalid("locale", "ERR_INCLUSION", f"{locale[:20]!r} is not a supported language")
    reason = (reason or "").strip() or None
    if mode == APPROVAL and reason is None:
        raise Invalid("reason", "ERR_BLANK", "reason can't be blank: say why you want to join, for the moderators")
    if reason is not None and len(reason) > MAX_REASON:
        raise Invalid("reason", "ERR_TOO_LONG", f"the reason has at most {MAX_REASON} characters")
    account = await accounts.create(session, urls, username=username.strip(), email=email, password=password,
                                    is_approved=mode != APPROVAL, now=now)
    if locale:
        account.locale = locale
    account.registration_reason = reason
    await session.flush()
    return account
