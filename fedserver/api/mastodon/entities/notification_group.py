"""GroupedNotificationsResults and NotificationGroup (docs.joinmastodon.org/entities/GroupedNotificationsResults),
accounts and statuses listed once beside the groups that point at them, in a fixed number of queries."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.api.mastodon.entities.account import acct, render_accounts
from fedserver.api.mastodon.entities.filter import is_hidden
from fedserver.api.mastodon.entities.notification import STATUS_TYPES
from fedserver.api.mastodon.entities.status import render_statuses, timestamp
from fedserver.local.models.actors import Actor
from fedserver.local.models.statuses import Status
from fedserver.local.notification_groups import Group
from fedserver.local.urls import LocalUrls


async def render_grouped(session: AsyncSession, urls: LocalUrls, groups: Sequence[Group], viewer: Actor,
                         account_id: int, *, partial_avatars: bool = False) -> dict[str, Any]:
    """The groups with the accounts and statuses they name; a group whose status the viewer's filters hide
    is left out, as v1 leaves such a notification out. partial_avatars: only each group's newest account
    in full, the others as PartialAccountWithAvatar."""
    actor_ids = {actor_id for group in groups for actor_id in group.sample_actor_ids}
    actors = list((await session.scalars(select(Actor).where(Actor.id.in_(actor_ids))))) if actor_ids else []
    by_id = {actor.id: actor for actor in actors}
    status_ids = {group.latest.status_id for group in groups if group.latest.kind in STATUS_TYPES}
    statuses = list((await session.scalars(select(Status).where(Status.id.in_(status_ids))))) if status_ids else []
    rendered = await render_statuses(session, urls, statuses, viewer, account_id, filter_context="notifications")
    shown = {status.id: entity for status, entity in zip(statuses, rendered) if not is_hidden(entity)}
    kept = [group for group in groups if _complete(group, by_id, shown)]
    full_ids = _ordered(group.sample_actor_ids[:1] if partial_avatars else group.sample_actor_ids for group in kept)
    partial_ids = [actor_id for actor_id in _ordered(group.sample_actor_ids for group in kept)
                   if actor_id not in set(full_ids)] if partial_avatars else []
    accounts = await render_accounts(session, urls, [by_id[actor_id] for actor_id in full_ids])
    result: dict[str, Any] = {
        "accounts": [accounts[actor_id] for actor_id in full_ids],
        "statuses": [shown[sid] for sid in _ordered([group.latest.status_id] for group in kept
                                                    if group.latest.kind in STATUS_TYPES)],
        "notification_groups": [render_group(group) for group in kept],
    }
    if partial_avatars:
        result["partial_accounts"] = [_partial(urls, by_id[actor_id]) for actor_id in partial_ids]
    return result


def _complete(group: Group, actors: dict[int, Actor], statuses: dict[int, Any]) -> bool:
    group.sample_actor_ids = [actor_id for actor_id in group.sample_actor_ids if actor_id in actors]
    if not group.sample_actor_ids:
        return False
    return group.latest.kind not in STATUS_TYPES or group.latest.status_id in statuses


def _ordered(lists: Any) -> list[int]:
    return list(dict.fromkeys(item for items in lists for item in items if item is not None))


def render_group(group: Group) -> dict[str, Any]:
    """A NotificationGroup; the page_* fields only inside a paged list, status_id only for status types."""
    entity: dict[str, Any] = {
        "group_key": group.key, "notifications_count": group.count, "type": group.latest.kind,
        "most_recent_notification_id": str(group.latest.id),
    }
    if group.page_min_id is not None:
        entity.update({"page_min_id": str(group.page_min_id), "page_max_id": str(group.latest.id),
                       "latest_page_notification_at": timestamp(group.latest.created_at)})
    entity["sample_account_ids"] = [str(actor_id) for actor_id in group.sample_actor_ids]
    if group.latest.kind in STATUS_TYPES:
        entity["status_id"] = str(group.latest.status_id)
    return entity


def _partial(urls: LocalUrls, actor: Actor) -> dict[str, Any]:
    """PartialAccountWithAvatar: just enough to draw an avatar in a group's row."""
    avatar = actor.icon_url or f"{urls.base_url}/static/avatar.png"
    return {"id": str(actor.id), "acct": acct(urls, actor), "url": actor.url or actor.ap_id, "avatar": avatar,
            "avatar_static": avatar, "locked": actor.manually_approves_followers,
            "bot": actor.is_bot or actor.kind in ("Service", "Application")}
