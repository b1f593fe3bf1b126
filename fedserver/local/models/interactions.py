"""What actors do to statuses and to each other: likes, bookmarks, pins, follows, blocks, mutes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fedserver.db import Base, utcnow
from fedserver.ids import new_id

PENDING, ACCEPTED = "pending", "accepted"


class Follow(Base):
    """follower follows target; pending until the target (or its server) accepts."""

    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("follower_id", "target_id"),
        Index("ix_follows_target_id_state", "target_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    follower_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    ap_id: Mapped[str | None] = mapped_column(String(2048), unique=True)  # the Follow activity
    show_reblogs: Mapped[bool] = mapped_column(Boolean, default=True)
    notify: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Like(Base):
    __tablename__ = "likes"
    __table_args__ = (UniqueConstraint("actor_id", "status_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), index=True)
    ap_id: Mapped[str | None] = mapped_column(String(2048), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Bookmark(Base):
    """Private to the bookmarking account; never federated."""

    __tablename__ = "bookmarks"
    __table_args__ = (UniqueConstraint("actor_id", "status_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), index=True)


class Pin(Base):
    """A status an actor features on its profile (the featured collection)."""

    __tablename__ = "pins"
    __table_args__ = (UniqueConstraint("actor_id", "status_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), index=True)


class Block(Base):
    __tablename__ = "blocks"
    __table_args__ = (UniqueConstraint("actor_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    ap_id: Mapped[str | None] = mapped_column(String(2048), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mute(Base):
    """Local only: hides the target from the muter's feeds; never federated."""

    __tablename__ = "mutes"
    __table_args__ = (UniqueConstraint("actor_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    hide_notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None]


class DomainBlock(Base):
    """A whole server refused: by the instance (actor_id NULL) or by one account."""

    __tablename__ = "domain_blocks"
    __table_args__ = (UniqueConstraint("actor_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(255), index=True)
    severity: Mapped[str] = mapped_column(String(16), default="suspend")  # silence | suspend
    reason: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
