"""StreamEvent: what the streaming API sends, written in the same transaction as the change, so
that every server process (and every worker) can stream it; pruned after an hour."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fedserver.db import Base, utcnow
from fedserver.ids import new_id


class StreamEvent(Base):
    """One event for one stream: user:<account id>, public, public:local, hashtag:<name>, list:<id>, direct:<account id>."""

    __tablename__ = "stream_events"
    __table_args__ = (Index("ix_stream_events_stream_id", "stream", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    stream: Mapped[str] = mapped_column(String(300))
    event: Mapped[str] = mapped_column(String(32))  # update, notification, delete, status.update, announcement ...
    object_id: Mapped[int | None]  # the status or notification, rendered per listener when sent
    payload: Mapped[str] = mapped_column(Text, default="")  # for events without a row (delete: the id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
