"""Statuses (posts, replies and boosts), their edits, mentions and hashtags."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fedserver.db import Base, utcnow
from fedserver.ids import new_id

PUBLIC, UNLISTED, PRIVATE, DIRECT = "public", "unlisted", "private", "direct"
VISIBILITIES = (PUBLIC, UNLISTED, PRIVATE, DIRECT)
LISTED_VISIBILITIES = (PUBLIC, UNLISTED)  # what outboxes and anonymous fetches may show


class Status(Base):
    """A post by an actor; a boost is a status whose reblog_of_id points at the boosted one."""

    __tablename__ = "statuses"
    __table_args__ = (
        Index("ix_statuses_author_id_id", "author_id", "id"),
        Index("ix_statuses_in_reply_to_id", "in_reply_to_id"),
        Index("ix_statuses_reblog_of_id", "reblog_of_id"),
        Index("ix_statuses_visibility_id", "visibility", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    ap_id: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str | None] = mapped_column(String(2048))
    author_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    object_type: Mapped[str] = mapped_column(String(16), default="Note")  # Note, Article, Page, Question, Event
    visibility: Mapped[str] = mapped_column(String(16), default=PUBLIC)
    is_local: Mapped[bool] = mapped_column(Boolean, default=True)
    title: Mapped[str | None] = mapped_column(String(512))  # name of an Article, Page, Event
    content_html: Mapped[str] = mapped_column(Text, default="")
    source_text: Mapped[str | None] = mapped_column(Text)  # what a local author typed (for editing)
    spoiler_text: Mapped[str] = mapped_column(String(1024), default="")
    is_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(16))
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("statuses.id", ondelete="SET NULL"))
    in_reply_to_ap_id: Mapped[str | None] = mapped_column(String(2048))
    thread_ap_id: Mapped[str | None] = mapped_column(String(2048), index=True)  # conversation/context
    reblog_of_id: Mapped[int | None] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"))
    audience_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"), index=True)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatusEdit(Base):
    """One earlier version of an edited status (Mastodon's edit history)."""

    __tablename__ = "status_edits"

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), index=True)
    content_html: Mapped[str] = mapped_column(Text)
    spoiler_text: Mapped[str] = mapped_column(String(1024), default="")
    is_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mention(Base):
    """An actor named in a status; mentioned actors are in a direct post's audience."""

    __tablename__ = "mentions"

    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True, index=True)


class Tag(Base):
    """A hashtag, stored lowercased for lookup and with the spelling first seen for display."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))


class StatusTag(Base):
    __tablename__ = "status_tags"
    __table_args__ = (Index("ix_status_tags_tag_id_status_id", "tag_id", "status_id"),)

    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
