"""Moderators of a group hosted here remove a post from it: the group Announces the moderator's Delete to every
member's server (Lemmy's mod removal), and each of them drops its copy (group_inbound.receive_removal)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub import vocab
from fedserver.ids import new_id
from fedserver.local import follows, group_inbound, group_removals, groups, streams
from fedserver.local.errors import Invalid, NotFound
from fedserver.local.models.actors import Actor
from fedserver.local.models.groups import GroupSettings
from fedserver.local.models.statuses import Status
from fedserver.local.urls import LocalUrls
from fedserver.outbox import activities, fanout, published
from fedserver.outbox.publish import publish

MAX_REASON = 1024


async def remove_post(session: AsyncSession, urls: LocalUrls, group: Actor, moderator: Actor, status: Status,
                      reason: str = "", *, now: datetime) -> None:
    """Take a post out of the group everywhere: a copy held here only because of the group goes; a post of
    one of our residents stays theirs but leaves the group."""
    await groups.require_moderator(session, group, moderator)
    if status.audience_id != group.id or status.reblog_of_id is not None:
        raise NotFound("this post is not in the group")
    if len(reason) > MAX_REASON:
        raise Invalid("reason", "ERR_TOO_LONG", f"a reason has at most {MAX_REASON} characters")
    author = await session.get(Actor, status.author_id)
    assert author is not None
    settings = await session.get(GroupSettings, group.id)
    private = settings is not None and settings.is_private
    members = group.followers_url or f"{group.ap_id}/followers"
    to, cc = ((members,), ()) if private else ((vocab.PUBLIC,), (members,))
    removal = activities.build_group_removal(urls.activity(moderator.username, new_id()), moderator.ap_id,
                                             group.ap_id, status.ap_id, reason.strip(), to, cc)
    recipients = await follows.remote_inboxes_of_followers(session, group.id)
    if author.domain != "":  # the author's server takes the post out of the group too
        recipients.append((author.inbox_url, author.shared_inbox_url))
    await publish(session, activities.build_group_announce(urls.activity(group.username, new_id()), group.ap_id,
                                                           removal, to, cc, now),
                  inbox_urls=fanout.inbox_urls(recipients))
    await group_removals.record(session, group, moderator, status, reason.strip(), now=now)
    if status.is_local:
        await group_inbound.leave_group(session, status, group)
        return
    await streams.on_status_deleted(session, status, author)  # before the row goes: its audience is read from it
    await session.execute(delete(Status).where(Status.id == status.id))
    await published.forget_object(session, status.ap_id)  # the group's Announce of it leaves the outbox
