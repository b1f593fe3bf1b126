"""The group relay (FEP-1b12): a post addressed to one of our groups is checked, then Announced by the group.

A post belongs to a group when the group is named in its `to`, `cc`, `audience` or mentions, or when it
answers a post of the group. If the author may post there (group_admission), the group Announces the whole
Create to its members' servers, with itself as `audience` (Lemmy's shape), and keeps a boost row: the
group's account statuses are its timeline, and members see the posts in their home timelines. Updates,
Deletes, Likes and the Undo of a Like of the group's posts are Announced the same way. Private groups Announce to their
followers only, never to Public, and never list the Announce in the outbox.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.activitypub import vocab
from fedserver.ids import new_id
from fedserver.local import follows, group_admission, streams
from fedserver.local.models.actors import GROUP, Actor
from fedserver.local.models.groups import GroupSettings
from fedserver.local.models.statuses import LISTED_VISIBILITIES, PRIVATE, Mention, Status
from fedserver.local.urls import LocalUrls
from fedserver.outbox import activities, fanout
from fedserver.outbox.publish import publish

log = logging.getLogger(__name__)


async def claim_audience(session: AsyncSession, status: Status, named: Iterable[str] = ()) -> Actor | None:
    """Set the status's audience to the group it is addressed to (ours or a remote one), before its Create
    is built, so that the Create carries `audience`; None when it names no group."""
    group = await _addressed_group(session, status, named, local_only=False)
    if group is not None:
        status.audience_id = group.id
    return group


async def relay_new(session: AsyncSession, urls: LocalUrls, status: Status, author: Actor, create: dict[str, Any],
                    *, now: datetime, named: Iterable[str] = ()) -> Actor | None:
    """A new post (local or delivered) addressed to one of our groups: Announced by the group when the
    author may post there; returns the group that announced it."""
    if status.reblog_of_id is not None:
        return None
    group = await _addressed_group(session, status, named, local_only=True)
    if group is None or await _announced_by(session, group, status) is not None:
        return None  # no group of ours, or a redelivery that was relayed already
    refusal = await group_admission.post_refusal(session, group, author)
    if refusal is not None:
        log.info("group %s does not announce %s: %s", group.ap_id, status.ap_id, refusal)
        if status.audience_id == group.id:
            status.audience_id = None
        return None
    status.audience_id = group.id
    settings = await session.get(GroupSettings, group.id)
    private = settings is not None and settings.is_private
    boost_id = new_id()
    shown = PRIVATE if private or status.visibility not in LISTED_VISIBILITIES else status.visibility
    boost = Status(id=boost_id, ap_id=urls.activity(group.username, boost_id), author_id=group.id, visibility=shown,
                   is_local=True, reblog_of_id=status.id, audience_id=group.id, published_at=now, created_at=now)
    session.add(boost)
    await session.flush()
    await streams.on_status_created(session, boost, group)
    to, cc = _addressing(group, private)
    await publish(session, activities.build_group_announce(boost.ap_id, group.ap_id, create, to, cc, now),
                  inbox_urls=await _member_inboxes(session, group), is_listed=shown in LISTED_VISIBILITIES,
                  object_ap_id=status.ap_id)
    return group


async def relay_followup(session: AsyncSession, urls: LocalUrls, status: Status, actor: Actor,
                         inner: dict[str, Any], *, now: datetime) -> bool:
    """An Update, Delete, Like or Undo{Like} of a post in one of our groups: the group Announces it to its
    members. Only the author edits or deletes (the caller checked); a banned member's Like is not passed on."""
    group = await session.get(Actor, status.audience_id) if status.audience_id is not None else None
    if group is None or not group_admission.is_local_group(group):
        return False
    if await group_admission.is_banned(session, group, actor):
        return False
    settings = await session.get(GroupSettings, group.id)
    to, cc = _addressing(group, settings is not None and settings.is_private)
    # Filed under the post, so that its deletion takes the relayed Update or Like along; not the Delete itself,
    # which must still be delivered after the row has gone (published.forget_object).
    filed_under = None if inner.get("type") == vocab.DELETE else status.ap_id
    await publish(session, activities.build_group_announce(urls.activity(group.username, new_id()), group.ap_id,
                                                           inner, to, cc, now),
                  inbox_urls=await _member_inboxes(session, group), object_ap_id=filed_under)
    return True


async def relay_incoming(session: AsyncSession, urls: LocalUrls, activity: dict[str, Any], document: dict[str, Any]
                         | None, status: Status | None, actor: Actor, *, now: datetime) -> None:
    """What a peer sent, once applied: a Create addressed to one of our groups is relayed; an Update or
    Like of a post in one of them too (its object as fetched from its origin, never as it came)."""
    if status is None or actor.domain == "":
        return
    kind = activity.get("type")
    inner = dict(activity, object=document) if document is not None else activity
    if kind == vocab.CREATE and status.author_id == actor.id:
        named = [*_iris(activity.get("to")), *_iris(activity.get("cc")), *_iris(activity.get("audience")),
                 *(_iris((document or {}).get("audience")))]
        await relay_new(session, urls, status, actor, inner, now=now, named=named)
    elif kind == vocab.UPDATE and status.author_id == actor.id:
        await relay_followup(session, urls, status, actor, inner, now=now)
    elif kind == vocab.LIKE:
        await relay_followup(session, urls, status, actor, activity, now=now)


async def relay_incoming_delete(session: AsyncSession, urls: LocalUrls, activity: dict[str, Any],
                                status: Status | None, actor: Actor, *, now: datetime) -> None:
    """A peer's Delete of a post in one of our groups, before it is applied (the row still says which group)."""
    if status is not None and status.author_id == actor.id and actor.domain != "":
        await relay_followup(session, urls, status, actor, activity, now=now)


async def _addressed_group(session: AsyncSession, status: Status, named: Iterable[str], *,
                           local_only: bool) -> Actor | None:
    """The group a post is addressed to: named in to/cc/audience, mentioned, or that of the post it answers."""
    iris = [iri for iri in dict.fromkeys(named) if iri != vocab.PUBLIC]
    mentioned = select(Mention.actor_id).where(Mention.status_id == status.id)
    query = select(Actor).where(Actor.kind == GROUP, Actor.ap_id.in_(iris) | Actor.id.in_(mentioned))
    if local_only:
        query = query.where(Actor.domain == "")
    found = (await session.scalars(query.order_by(Actor.id))).first()
    if found is not None or status.in_reply_to_id is None:
        return found
    parent_group = await session.scalar(select(Status.audience_id).where(Status.id == status.in_reply_to_id))
    group = await session.get(Actor, parent_group) if parent_group is not None else None
    if group is None or (local_only and group.domain != ""):
        return None
    return group


async def _announced_by(session: AsyncSession, group: Actor, status: Status) -> int | None:
    query = select(Status.id).where(Status.author_id == group.id, Status.reblog_of_id == status.id)
    return await session.scalar(query)


def _addressing(group: Actor, private: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Lemmy's: to Public, cc the members; a private group's only to its members."""
    members = group.followers_url or f"{group.ap_id}/followers"
    return ((members,), ()) if private else ((vocab.PUBLIC,), (members,))


async def _member_inboxes(session: AsyncSession, group: Actor) -> list[str]:
    return fanout.inbox_urls(await follows.remote_inboxes_of_followers(session, group.id))


def _iris(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [str(value["id"])] if isinstance(value.get("id"), str) else []
    if isinstance(value, list):
        return [iri for item in value for iri in _iris(item)]
    return []
