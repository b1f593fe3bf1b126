"""Changing one's password: the current one confirms it, and every session and app token ends."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import passwords, web_sessions
from fedserver.local.errors import Invalid
from fedserver.local.models.accounts import Account


async def change_password(session: AsyncSession, account: Account, *, current: str, new: str) -> None:
    """Set a new password after checking the current one; signs the account out everywhere; raises Invalid."""
    if not passwords.verify_password(account.password_hash, current):
        raise Invalid("current_password", "ERR_INVALID", "the current password is wrong")
    if not passwords.MIN_LENGTH <= len(new) <= passwords.MAX_LENGTH:
        raise Invalid("password", "ERR_TOO_SHORT" if len(new) < passwords.MIN_LENGTH else "ERR_TOO_LONG",
                      f"a password has {passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} characters")
    account.password_hash = passwords.hash_password(new)
    await web_sessions.close_all(session, account.id)
    await session.flush()
