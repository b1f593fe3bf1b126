"""Media attachments: files on the city's disk (local) or links to a remote server's copy."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fedserver.db import Base, utcnow
from fedserver.ids import new_id


class MediaAttachment(Base):
    """Unattached local media (status_id NULL) is removed after a day."""

    __tablename__ = "media_attachments"

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    status_id: Mapped[int | None] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16), default="image")  # image, video, gifv, audio, unknown
    content_type: Mapped[str] = mapped_column(String(128), default="")
    file_path: Mapped[str | None] = mapped_column(String(1024))  # relative to the media dir
    preview_path: Mapped[str | None] = mapped_column(String(1024))
    remote_url: Mapped[str | None] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(Text, default="")
    blurhash: Mapped[str | None] = mapped_column(String(255))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    focus_x: Mapped[float] = mapped_column(Float, default=0.0)
    focus_y: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
