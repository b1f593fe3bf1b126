"""Groups (FEP-1b12): settings of a Group actor, its moderators, its bans and the posts removed from it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fedserver.db import Base, utcnow
from fedserver.ids import new_id

OPEN, APPROVAL = "open", "approval"
MEMBERS, ANYONE, MODERATORS = "members", "anyone", "moderators"


class GroupSettings(Base):
    """Rules of a group hosted here; members are the Group actor's accepted followers."""

    __tablename__ = "group_settings"

    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    join_mode: Mapped[str] = mapped_column(String(16), default=OPEN)
    posting_mode: Mapped[str] = mapped_column(String(16), default=MEMBERS)
    is_local_only: Mapped[bool] = mapped_column(Boolean, default=False)
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    rules: Mapped[str] = mapped_column(Text, default="")


class GroupRole(Base):
    """An admin or moderator of a group."""

    __tablename__ = "group_roles"

    group_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default="moderator")  # admin | moderator


class GroupBan(Base):
    __tablename__ = "group_bans"

    group_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupRemoval(Base):
    """A post a moderator took out of a group; the post itself may be gone, so its author and an excerpt stay."""

    __tablename__ = "group_removals"
    __table_args__ = (Index("ix_group_removals_group_id_id", "group_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    group_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))
    post_ap_id: Mapped[str] = mapped_column(String(2048))
    excerpt: Mapped[str] = mapped_column(String(500), default="")
    reason: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
