"""Delivery: one activity body on its way to one inbox; rows live until sent, gone or given up."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fedserver.db import Base, utcnow
from fedserver.ids import new_id

PENDING, SENT, GONE, FAILED = "pending", "sent", "gone", "failed"


class Delivery(Base):
    """Queued in the same transaction as the change that caused it (STYLE.md, rule 3)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("activity_id", "inbox_url"),
        Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    activity_id: Mapped[int] = mapped_column(ForeignKey("published_activities.id", ondelete="CASCADE"))
    sender_ap_id: Mapped[str] = mapped_column(String(2048))
    inbox_url: Mapped[str] = mapped_column(String(2048))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
