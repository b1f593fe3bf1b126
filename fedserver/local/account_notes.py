"""Private notes an account keeps about other accounts (Mastodon's AccountNote); only their writer sees them."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.errors import Invalid
from fedserver.local.models.accounts import Account
from fedserver.local.models.scheduling import AccountNote

MAX_COMMENT = 2000  # Mastodon's AccountNote::COMMENT_SIZE_LIMIT


async def set_note(session: AsyncSession, account_id: int, target_id: int, comment: str, *, now: datetime) -> None:
    """Keep one note per (account, target): a new comment replaces the old one, an empty one removes it."""
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid("comment", "ERR_TOO_LONG", f"a note has at most {MAX_COMMENT} characters")
    if not comment:
        await session.execute(delete(AccountNote).where(AccountNote.account_id == account_id,
                                                        AccountNote.target_id == target_id))
        return
    note = await session.get(AccountNote, (account_id, target_id))
    if note is None:
        session.add(AccountNote(account_id=account_id, target_id=target_id, comment=comment, updated_at=now))
    else:
        note.comment, note.updated_at = comment, now
    await session.flush()


async def notes_about(session: AsyncSession, viewer_actor_id: int, target_ids: Sequence[int]) -> dict[int, str]:
    """The viewer's notes about these actors, by actor id (none for a remote viewer); one query."""
    if not target_ids:
        return {}
    rows = await session.execute(select(AccountNote.target_id, AccountNote.comment)
                                 .join(Account, Account.id == AccountNote.account_id)
                                 .where(Account.actor_id == viewer_actor_id,
                                        AccountNote.target_id.in_(list(target_ids))))
    return {target_id: comment for target_id, comment in rows.all()}
