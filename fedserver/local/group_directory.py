"""Groups as the web UI lists and reads them: the city's directory of groups, the groups a resident belongs to,
and a group's feed (the posts it relayed, each as the group's boost), as far as the viewer may read it."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local import account_lookup, group_admission, groups
from fedserver.local.errors import NotFound
from fedserver.local.models.actors import GROUP, Actor
from fedserver.local.models.interactions import Follow
from fedserver.local.models.statuses import LISTED_VISIBILITIES, Status


async def listed(session: AsyncSession, text: str = "", *, max_id: int | None = None, limit: int = 20) -> list[Actor]:
    """The city's own groups that are listed (private ones are not), newest first; `text` narrows them to
    those whose name, display name or topic starts with it."""
    query = select(Actor).where(Actor.kind == GROUP, Actor.domain == "", Actor.is_discoverable.is_(True),
                                account_lookup.shown())
    text = text.strip().lstrip("@")
    if text:
        prefix = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Actor.username_key.like(prefix, escape="\\"),
                                Actor.display_name.ilike(prefix, escape="\\"),
                                Actor.topic.ilike(prefix, escape="\\")))
    if max_id is not None:
        query = query.where(Actor.id < max_id)
    return list((await session.scalars(query.order_by(Actor.id.desc()).limit(limit))).all())


async def joined(session: AsyncSession, viewer: Actor) -> list[tuple[Actor, str]]:
    """(group, follow state) of every group, here or elsewhere, the viewer belongs to or asked to join."""
    query = (select(Actor, Follow.state).join(Follow, Follow.target_id == Actor.id)
             .where(Follow.follower_id == viewer.id, Actor.kind == GROUP).order_by(Actor.username_key, Actor.domain))
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def find_any(session: AsyncSession, group_id: int) -> Actor:
    """A group this city knows, its own or another server's; raises NotFound."""
    actor = await account_lookup.find_shown(session, group_id)
    if actor.kind != GROUP:
        raise NotFound("there is no such group")
    return actor


async def is_private(session: AsyncSession, group: Actor) -> bool:
    """Whether only members may read the group (known for our own groups only)."""
    return group_admission.is_local_group(group) and (await groups.settings_of(session, group)).is_private


async def may_read_all(session: AsyncSession, group: Actor, viewer: Actor | None) -> bool:
    """Members and the group's staff read every post the group relayed, not only the public ones."""
    if viewer is None:
        return False
    if await group_admission.is_member(session, group, viewer):
        return True
    return group_admission.is_local_group(group) and await groups.role_of(session, group, viewer) is not None


async def feed(session: AsyncSession, group: Actor, viewer: Actor | None, *, max_id: int | None = None,
               limit: int = 20) -> list[Status]:
    """The group's boosts of the posts it relayed, newest first; outsiders see the listed ones only, and
    nothing of a private group."""
    read_all = await may_read_all(session, group, viewer)
    if not read_all and await is_private(session, group):
        return []
    query = select(Status).where(Status.author_id == group.id, Status.reblog_of_id.is_not(None))
    if not read_all:
        query = query.where(Status.visibility.in_(LISTED_VISIBILITIES))
    if max_id is not None:
        query = query.where(Status.id < max_id)
    return list((await session.scalars(query.order_by(Status.id.desc()).limit(limit))).all())
