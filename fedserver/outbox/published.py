"""PublishedActivity: every activity a local actor sent, behind the chronological outbox collection."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, String, Text, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fedserver.db import Base, utcnow
from fedserver.ids import new_id


class PublishedActivity(Base):
    """One activity as sent; is_listed marks what the public outbox shows (public and unlisted)."""

    __tablename__ = "published_activities"
    __table_args__ = (
        Index("ix_published_activities_actor_listed_id", "actor_ap_id", "is_listed", "id"),
        Index("ix_published_activities_object_ap_id", "object_ap_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    ap_id: Mapped[str] = mapped_column(String(2048), unique=True)
    actor_ap_id: Mapped[str] = mapped_column(String(2048))
    type: Mapped[str] = mapped_column(String(32))
    object_ap_id: Mapped[str | None] = mapped_column(String(2048))
    is_listed: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)  # the activity JSON as sent
    published_at: Mapped[datetime] = mapped_column(default=utcnow)

    def document(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


async def find(session: AsyncSession, ap_id: str) -> PublishedActivity | None:
    """The activity with this IRI, listed or not; callers decide who may see it."""
    result = await session.scalars(select(PublishedActivity).where(PublishedActivity.ap_id == ap_id))
    return result.first()


async def count_listed(session: AsyncSession, actor_ap_id: str) -> int:
    """How many activities the actor's public outbox holds."""
    query = select(func.count()).where(
        PublishedActivity.actor_ap_id == actor_ap_id, PublishedActivity.is_listed.is_(True)
    )
    return int(await session.scalar(query) or 0)


async def listed_page(
    session: AsyncSession, actor_ap_id: str, *, max_id: int | None, min_id: int | None, limit: int
) -> list[PublishedActivity]:
    """A page of the public outbox, newest first, strictly by id (no ranking, DESIGN.md)."""
    query = select(PublishedActivity).where(
        PublishedActivity.actor_ap_id == actor_ap_id, PublishedActivity.is_listed.is_(True)
    )
    if max_id is not None:
        query = query.where(PublishedActivity.id < max_id)
    if min_id is not None:
        # The page just above min_id: take the oldest ones after it, then show them newest first.
        query = query.where(PublishedActivity.id > min_id).order_by(PublishedActivity.id.asc()).limit(limit)
        return list(reversed((await session.scalars(query)).all()))
    query = query.order_by(PublishedActivity.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def replace_object(session: AsyncSession, object_ap_id: str, new_object: dict[str, Any]) -> None:
    """After an edit, the Create in the outbox carries the object as it now is."""
    rows = await session.scalars(
        select(PublishedActivity).where(
            PublishedActivity.object_ap_id == object_ap_id, PublishedActivity.type == "Create"
        )
    )
    for row in rows:
        document = row.document()
        document["object"] = new_object
        row.body = json.dumps(document, ensure_ascii=False)


async def forget_object(session: AsyncSession, object_ap_id: str) -> None:
    """Remove every activity about a deleted object: what a user deletes is really gone."""
    await session.execute(delete(PublishedActivity).where(PublishedActivity.object_ap_id == object_ap_id))


async def forget_activity(session: AsyncSession, ap_id: str) -> None:
    """Remove one activity from the outbox (an undone boost)."""
    await session.execute(delete(PublishedActivity).where(PublishedActivity.ap_id == ap_id))


async def forget_actor(session: AsyncSession, actor_ap_id: str) -> None:
    """Remove everything an actor published (account deletion)."""
    await session.execute(delete(PublishedActivity).where(PublishedActivity.actor_ap_id == actor_ap_id))
