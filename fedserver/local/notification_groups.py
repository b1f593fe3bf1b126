"""Grouped notifications (Mastodon 4.3, API v2): likes and boosts of one status, and follows, fold into
groups by the group_key notifications.notify gave them; every other notification is a group of its own,
`ungrouped-<id>`. Groups are ordered strictly by their newest notification."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.ids import InvalidId, parse_id
from fedserver.local.errors import NotFound
from fedserver.local.models.notifications import Notification
from fedserver.local.notifications import GROUPED_KINDS, readable
from fedserver.local.timelines import Paging

UNGROUPED = "ungrouped-"
SAMPLE_ACCOUNTS = 8  # Mastodon's NotificationGroup::SAMPLE_ACCOUNTS_SIZE
FIRST_CHUNK, LARGEST_CHUNK = 40, 2000  # rows read per step while looking for a page of distinct groups


@dataclass(frozen=True)
class Narrowing:
    """What the client asked to see: types[], exclude_types[], account_id, and which types fold (grouped_types[])."""

    types: Sequence[str] = ()
    exclude_types: Sequence[str] = ()
    from_actor_id: int | None = None
    grouped_types: Sequence[str] = GROUPED_KINDS


@dataclass
class Group:
    """One notification group; page_min_id is None outside a paged list (GET one group)."""

    key: str
    latest: Notification
    count: int
    sample_actor_ids: list[int] = field(default_factory=list)
    page_min_id: int | None = None


def _conditions(recipient_id: int, narrowing: Narrowing) -> list[ColumnElement[bool]]:
    conditions = readable(recipient_id)
    if narrowing.types:
        conditions.append(Notification.kind.in_(list(narrowing.types)))
    if narrowing.exclude_types:
        conditions.append(Notification.kind.not_in(list(narrowing.exclude_types)))
    if narrowing.from_actor_id is not None:
        conditions.append(Notification.from_actor_id == narrowing.from_actor_id)
    return conditions


def _key(notification_id: int, kind: str, group_key: str | None, grouped_types: Sequence[str]) -> str:
    return group_key if group_key and kind in grouped_types else f"{UNGROUPED}{notification_id}"


async def page(session: AsyncSession, recipient_id: int, paging: Paging, narrowing: Narrowing) -> list[Group]:
    """A page of groups, newest first: each group once, as its notifications in the page's range tell it
    (Mastodon's paginate_groups_by_max_id / _by_min_id and NotificationGroup.from_notifications)."""
    conditions = _conditions(recipient_id, narrowing)
    seen, complete = await _scan(session, conditions, paging, narrowing.grouped_types)
    if not seen:
        return []
    if paging.min_id is not None:
        low, high = paging.min_id + 1, max(seen.values()) if complete else None
    else:
        low = min(seen.values()) if complete else (paging.since_id + 1 if paging.since_id is not None else 0)
        high = max(seen.values())
    groups = await _groups(session, conditions, list(seen), low=low, high=high)
    return sorted(groups, key=lambda group: group.latest.id, reverse=True)


async def _scan(session: AsyncSession, conditions: list[ColumnElement[bool]], paging: Paging,
                grouped_types: Sequence[str]) -> tuple[dict[str, int], bool]:
    """The first `limit` distinct group keys in paging order, each with the id it was first seen at; True
    when the page is full. Reads growing chunks of (id, kind, group_key) along the (recipient_id, id) index."""
    upwards = paging.min_id is not None
    query = select(Notification.id, Notification.kind, Notification.group_key).where(*conditions)
    for bound in (paging.since_id, paging.min_id):
        if bound is not None:
            query = query.where(Notification.id > bound)
    if paging.max_id is not None:
        query = query.where(Notification.id < paging.max_id)
    seen: dict[str, int] = {}
    cursor, chunk = None, max(FIRST_CHUNK, paging.limit * 2)
    while True:
        step = query if cursor is None else query.where(Notification.id > cursor if upwards else Notification.id < cursor)
        rows = (await session.execute(step.order_by(Notification.id.asc() if upwards else Notification.id.desc())
                                      .limit(chunk))).all()
        for notification_id, kind, group_key in rows:
            seen.setdefault(_key(notification_id, kind, group_key, grouped_types), notification_id)
            if len(seen) == paging.limit:
                return seen, True
        if len(rows) < chunk:
            return seen, False
        cursor, chunk = rows[-1][0], min(chunk * 2, LARGEST_CHUNK)


async def _groups(session: AsyncSession, conditions: list[ColumnElement[bool]], keys: list[str], *,
                  low: int | None, high: int | None) -> list[Group]:
    """Count, newest notification, sample accounts and page_min_id of each group, counting what lies at or
    below `high` (and page_min_id from `low` up); four queries whatever the page size."""
    ungrouped = {key: int(key[len(UNGROUPED):]) for key in keys if key.startswith(UNGROUPED)}
    folded = [key for key in keys if key not in ungrouped]
    bounded = [*conditions, Notification.id <= high] if high is not None else list(conditions)
    facts: dict[str, tuple[int, int, int | None]] = {}
    if folded:
        lowest_in_page = func.min(case((Notification.id >= (low or 0), Notification.id)))
        rows = await session.execute(
            select(Notification.group_key, func.max(Notification.id), func.count(Notification.id), lowest_in_page)
            .where(*bounded, Notification.group_key.in_(folded)).group_by(Notification.group_key))
        facts = {key: (newest, count, lowest) for key, newest, count, lowest in rows.all() if key is not None}
    samples = await _samples(session, bounded, list(facts))
    latest_ids = [facts[key][0] for key in facts] + list(ungrouped.values())
    latest = {item.id: item for item in (await session.scalars(
        select(Notification).where(Notification.id.in_(latest_ids)))).all()}
    groups = [Group(key=key, latest=latest[newest], count=count, sample_actor_ids=samples.get(key, []),
                    page_min_id=lowest if low is not None else None)
              for key, (newest, count, lowest) in facts.items() if newest in latest]
    groups += [Group(key=key, latest=latest[nid], count=1, sample_actor_ids=[latest[nid].from_actor_id],
                     page_min_id=nid if low is not None else None)
               for key, nid in ungrouped.items() if nid in latest]
    return groups


async def _samples(session: AsyncSession, conditions: list[ColumnElement[bool]], keys: list[str]) -> dict[str, list[int]]:
    """Who caused the newest few notifications of each group, newest first."""
    if not keys:
        return {}
    rank = func.row_number().over(partition_by=Notification.group_key, order_by=Notification.id.desc()).label("rank")
    ranked = select(Notification.group_key, Notification.from_actor_id, Notification.id, rank).where(
        *conditions, Notification.group_key.in_(keys)).subquery()
    rows = await session.execute(select(ranked.c.group_key, ranked.c.from_actor_id)
                                 .where(ranked.c.rank <= SAMPLE_ACCOUNTS).order_by(ranked.c.id.desc()))
    samples: dict[str, list[int]] = {}
    for key, actor_id in rows.all():
        samples.setdefault(key, []).append(actor_id)
    return samples


def _in_group(recipient_id: int, key: str) -> list[ColumnElement[bool]]:
    """One group of the recipient's readable notifications; NotFound for a key that cannot be one."""
    if not key.startswith(UNGROUPED):
        return [*readable(recipient_id), Notification.group_key == key]
    try:
        return [*readable(recipient_id), Notification.id == parse_id(key[len(UNGROUPED):], "group_key")]
    except InvalidId:
        raise NotFound("Record not found") from None


async def _exists(session: AsyncSession, recipient_id: int, key: str) -> None:
    if await session.scalar(select(Notification.id).where(*_in_group(recipient_id, key)).limit(1)) is None:
        raise NotFound("Record not found")


async def find(session: AsyncSession, recipient_id: int, key: str) -> Group:
    """One group of the recipient's, whole (not paged); NotFound when it has no notification they may read."""
    await _exists(session, recipient_id, key)
    return (await _groups(session, readable(recipient_id), [key], low=None, high=None))[0]


async def dismiss(session: AsyncSession, recipient_id: int, key: str) -> None:
    """Delete every notification of the group (Mastodon answers the same whether there were any or not)."""
    try:
        group = _in_group(recipient_id, key)[-1]
    except NotFound:
        return
    await session.execute(delete(Notification).where(Notification.recipient_id == recipient_id, group))


async def accounts(session: AsyncSession, recipient_id: int, key: str, paging: Paging) -> list[tuple[int, int]]:
    """(notification id, actor id) of who caused the group's notifications, newest first, paged by
    notification id; NotFound when the group does not exist."""
    await _exists(session, recipient_id, key)
    query = select(Notification.id, Notification.from_actor_id).where(*_in_group(recipient_id, key))
    if paging.max_id is not None:
        query = query.where(Notification.id < paging.max_id)
    lower = paging.min_id if paging.min_id is not None else paging.since_id
    if lower is not None:
        query = query.where(Notification.id > lower)
    upwards = paging.min_id is not None
    rows = [(row[0], row[1]) for row in (await session.execute(
        query.order_by(Notification.id.asc() if upwards else Notification.id.desc()).limit(paging.limit))).all()]
    return rows[::-1] if upwards else rows


@dataclass(frozen=True)
class _After:
    min_id: int | None
    limit: int
    max_id: int | None = None
    since_id: int | None = None


async def count_unread(session: AsyncSession, recipient_id: int, after_id: int | None, *, limit: int,
                       narrowing: Narrowing) -> int:
    """How many groups have notifications after the marker, counted up to `limit` (v2 unread_count)."""
    seen, _complete = await _scan(session, _conditions(recipient_id, narrowing), _After(after_id or 0, limit),
                                  narrowing.grouped_types)
    return len(seen)
