"""Timelines: strictly chronological lists of statuses, newest first, paged by id. No ranking."""
from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedserver.local.models.actors import Actor
from fedserver.local.models.statuses import PUBLIC, Status, StatusTag, Tag

Row = tuple[Status, Actor]


def _page(query: Select[tuple[Status, Actor]], max_id: int | None, limit: int) -> Select[tuple[Status, Actor]]:
    if max_id is not None:
        query = query.where(Status.id < max_id)
    return query.order_by(Status.id.desc()).limit(limit)


def _public_posts() -> Select[tuple[Status, Actor]]:
    return (select(Status, Actor).join(Actor, Actor.id == Status.author_id)
            .where(Status.visibility == PUBLIC, Status.reblog_of_id.is_(None)))


async def local_public(session: AsyncSession, *, max_id: int | None = None, limit: int = 20) -> list[Row]:
    """Public posts of this city's accounts (the landing page and the local timeline)."""
    query = _page(_public_posts().where(Status.is_local.is_(True)), max_id, limit)
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def by_author_public(session: AsyncSession, author_id: int, *, max_id: int | None = None,
                           limit: int = 20) -> list[Row]:
    """An actor's public posts, as a profile page shows them to anyone."""
    query = _page(_public_posts().where(Status.author_id == author_id), max_id, limit)
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def tagged_public(session: AsyncSession, tag: str, *, max_id: int | None = None, limit: int = 20) -> list[Row]:
    """Public posts carrying a hashtag (case-insensitive)."""
    query = (_public_posts().join(StatusTag, StatusTag.status_id == Status.id)
             .join(Tag, Tag.id == StatusTag.tag_id).where(Tag.name == tag.lower()))
    return [(row[0], row[1]) for row in (await session.execute(_page(query, max_id, limit))).all()]
