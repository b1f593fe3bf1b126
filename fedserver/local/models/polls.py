"""Polls (AS2 Question): options and votes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fedserver.db import Base
from fedserver.ids import new_id


class Poll(Base):
    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), unique=True)
    expires_at: Mapped[datetime | None]
    is_multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    voters_count: Mapped[int] = mapped_column(Integer, default=0)  # remote polls report it


class PollOption(Base):
    __tablename__ = "poll_options"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    votes_count: Mapped[int] = mapped_column(Integer, default=0)


class PollVote(Base):
    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "actor_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    ap_id: Mapped[str | None] = mapped_column(String(2048))
