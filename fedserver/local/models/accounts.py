"""Local accounts: the credentials and roles behind a local actor."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fedserver.db import Base, utcnow
from fedserver.ids import new_id
from fedserver.local.models.actors import Actor

# What a local account is in the city; decides the actor type and the plan (shops pay).
RESIDENT, BUSINESS, CLUB, CITY, GROUP = "resident", "business", "club", "city", "group"
ACCOUNT_KINDS = (RESIDENT, BUSINESS, CLUB, CITY, GROUP)
USER, MODERATOR, ADMIN = "user", "moderator", "admin"
ROLES = (USER, MODERATOR, ADMIN)


class Account(Base):
    """A person or organisation who logs in here."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), unique=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lowercased
    password_hash: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16), default=RESIDENT)
    role: Mapped[str] = mapped_column(String(16), default=USER)
    locale: Mapped[str] = mapped_column(String(16), default="de")
    is_approved: Mapped[bool] = mapped_column(Boolean, default=True)  # registrations=approval
    is_suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    registration_reason: Mapped[str | None] = mapped_column(Text)  # asked when registrations=approval
    # Posting defaults (Mastodon's source[privacy], source[sensitive], source[language]).
    default_visibility: Mapped[str] = mapped_column(String(16), default="public", server_default="public")
    default_sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    default_language: Mapped[str | None] = mapped_column(String(16))
    hide_collections: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    actor: Mapped[Actor] = relationship(lazy="joined", innerjoin=True)
