"""An account's posting defaults (Mastodon's source[privacy], source[sensitive], source[language]) and
whether it hides its followers and follows from others (hide_collections)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.errors import Invalid
from fedserver.local.models.accounts import Account
from fedserver.local.models.statuses import PRIVATE, PUBLIC, UNLISTED
from fedserver.local.registration import LOCALE

# Mastodon's setting_default_privacy: a default of `direct` is not offered (UserSettings).
DEFAULT_VISIBILITIES = (PUBLIC, UNLISTED, PRIVATE)


def set_posting_defaults(account: Account, *, visibility: str | None = None, sensitive: bool | None = None,
                         language: str | None = None) -> None:
    """Change what a post gets when the client leaves it out; None leaves a default as it is, "" clears the language."""
    if visibility is not None:
        if visibility not in DEFAULT_VISIBILITIES:
            raise Invalid("source[privacy]", "ERR_INCLUSION",
                          f"{visibility[:20]!r} is not a default visibility: choose public, unlisted or private")
        account.default_visibility = visibility
    if sensitive is not None:
        account.default_sensitive = sensitive
    if language is not None:
        if language and not LOCALE.match(language):
            raise Invalid("source[language]", "ERR_INCLUSION", f"{language[:20]!r} is not a language code")
        account.default_language = language or None


def posting_language(account: Account) -> str | None:
    """The language of a post that names none: the chosen default, else the account's locale (as Mastodon's
    preferred_posting_language)."""
    return account.default_language or account.locale or None


async def hides_collections(session: AsyncSession, actor_id: int) -> bool:
    """Whether the local account behind this actor hides its followers and follows (False for remote actors)."""
    hidden = await session.scalar(select(Account.hide_collections).where(Account.actor_id == actor_id))
    return bool(hidden)
