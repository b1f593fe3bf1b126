"""Shops: a business's plan (a free trial month, then 29.90 EUR a month), products and offers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fedserver.db import Base, utcnow
from fedserver.ids import new_id

MONTHLY_PRICE_CENTS = 2990
CURRENCY = "EUR"


class Shop(Base):
    """The shop presence of a business actor."""

    __tablename__ = "shops"

    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    trial_ends_at: Mapped[datetime]
    paid_until: Mapped[datetime | None]
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Product(Base):
    """An item of a shop's catalogue."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.actor_id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("media_attachments.id", ondelete="SET NULL"))


class Offer(Base):
    """A special offer: a federated status (readable anywhere) with structured price and validity."""

    __tablename__ = "offers"

    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    valid_from: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
