"""Muted conversations: a resident hears nothing more from a thread (Mastodon: mute conversation)."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import visibility
from fedserver.local.errors import Invalid, NotFound
from fedserver.local.models.accounts import Account
from fedserver.local.models.clients import ThreadMute
from fedserver.local.models.statuses import Status


async def mute(session: AsyncSession, account: Account, status: Status) -> None:
    """Mute the conversation a status belongs to; the status must be one the account may see."""
    thread = await _thread_of(session, account, status)
    known = await session.get(ThreadMute, (account.id, thread))
    if known is None:
        session.add(ThreadMute(account_id=account.id, thread_ap_id=thread))
        await session.flush()


async def unmute(session: AsyncSession, account: Account, status: Status) -> None:
    """Hear from the conversation again."""
    thread = await _thread_of(session, account, status)
    await session.execute(delete(ThreadMute).where(ThreadMute.account_id == account.id,
                                                   ThreadMute.thread_ap_id == thread))


async def silences(session: AsyncSession, recipient_actor_id: int, status_id: int) -> bool:
    """Whether the recipient (a local actor) muted the conversation of this status."""
    query = (select(ThreadMute.account_id)
             .join(Account, Account.id == ThreadMute.account_id)
             .join(Status, Status.thread_ap_id == ThreadMute.thread_ap_id)
             .where(Account.actor_id == recipient_actor_id, Status.id == status_id).limit(1))
    return await session.scalar(query) is not None


async def _thread_of(session: AsyncSession, account: Account, status: Status) -> str:
    if not await visibility.can_see(session, account.actor, status):
        raise NotFound("Record not found")
    if not status.thread_ap_id:
        raise Invalid("status", "ERR_INVALID", "this post belongs to no conversation")
    return status.thread_ap_id
