"""Private account notes and statuses scheduled for later publication."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from fedserver.db import Base, utcnow
from fedserver.ids import new_id


class AccountNote(Base):
    """A private note one account keeps about another actor (Relationship.note)."""

    __tablename__ = "account_notes"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScheduledStatus(Base):
    """A status to publish at scheduled_at; params are the POST /api/v1/statuses parameters as JSON."""

    __tablename__ = "scheduled_statuses"

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    scheduled_at: Mapped[datetime] = mapped_column(index=True)
    params: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScheduledStatusMedia(Base):
    """Media held by a scheduled status: still unattached, but not to be cleaned up."""

    __tablename__ = "scheduled_status_media"

    scheduled_status_id: Mapped[int] = mapped_column(
        ForeignKey("scheduled_statuses.id", ondelete="CASCADE"), primary_key=True)
    media_id: Mapped[int] = mapped_column(
        ForeignKey("media_attachments.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
