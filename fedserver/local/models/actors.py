"""Actors, local and remote: people, groups, organisations, and the instance's own actor."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from fedserver.db import Base, utcnow
from fedserver.ids import new_id

# AS2 actor types we store. Businesses and clubs are Organizations; the instance actor is an Application.
PERSON, GROUP, ORGANIZATION, SERVICE, APPLICATION = "Person", "Group", "Organization", "Service", "Application"
ACTOR_KINDS = (PERSON, GROUP, ORGANIZATION, SERVICE, APPLICATION)


class Actor(Base):
    """Anyone who can follow or be followed; local actors have domain '' and an Account."""

    __tablename__ = "actors"
    __table_args__ = (
        Index("ix_actors_domain", "domain"),
        Index("ix_actors_username_key_domain", "username_key", "domain"),
        # Local usernames are unique; remote ones need not be (Lemmy has /u/x and /c/x on one host).
        Index("uq_actors_local_username", "username_key", unique=True,
              sqlite_where=text("domain = ''"), postgresql_where=text("domain = ''")),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    ap_id: Mapped[str] = mapped_column(String(2048), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    username: Mapped[str] = mapped_column(String(255))
    username_key: Mapped[str] = mapped_column(String(255))  # lowercased: case-insensitive unique
    domain: Mapped[str] = mapped_column(String(255), default="")  # '' for our own actors
    display_name: Mapped[str] = mapped_column(String(255), default="")
    summary_html: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2048))
    inbox_url: Mapped[str] = mapped_column(String(2048))
    shared_inbox_url: Mapped[str | None] = mapped_column(String(2048))
    outbox_url: Mapped[str | None] = mapped_column(String(2048))
    followers_url: Mapped[str | None] = mapped_column(String(2048))
    following_url: Mapped[str | None] = mapped_column(String(2048))
    featured_url: Mapped[str | None] = mapped_column(String(2048))
    public_key_id: Mapped[str | None] = mapped_column(String(2048), index=True)
    public_key_pem: Mapped[str | None] = mapped_column(Text)
    icon_url: Mapped[str | None] = mapped_column(String(2048))
    image_url: Mapped[str | None] = mapped_column(String(2048))
    fields_json: Mapped[str] = mapped_column(Text, default="[]")  # profile fields [{name, value_html}]
    manually_approves_followers: Mapped[bool] = mapped_column(Boolean, default=False)
    is_discoverable: Mapped[bool] = mapped_column(Boolean, default=True)
    is_indexable: Mapped[bool] = mapped_column(Boolean, default=False)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    topic: Mapped[str | None] = mapped_column(String(64), index=True)  # directory field (Themenfeld)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    fetched_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_local(self) -> bool:
        return self.domain == ""


class ActorKey(Base):
    """The private half of a local actor's RSA key pair; never served, never federated."""

    __tablename__ = "actor_keys"

    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
