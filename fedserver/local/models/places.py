"""Places: a name, an address and coordinates, for events, shops and the directory."""
from __future__ import annotations

from sqlalchemy import Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fedserver.db import Base
from fedserver.ids import new_id


class Place(Base):
    """A location; radius search runs over latitude/longitude (indexed for a bounding box)."""

    __tablename__ = "places"
    __table_args__ = (Index("ix_places_lat_lon", "latitude", "longitude"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=new_id)
    ap_id: Mapped[str | None] = mapped_column(String(2048))
    name: Mapped[str] = mapped_column(String(255), default="")
    street_address: Mapped[str] = mapped_column(String(255), default="")
    postal_code: Mapped[str] = mapped_column(String(32), default="")
    locality: Mapped[str] = mapped_column(String(255), default="")
    country: Mapped[str] = mapped_column(String(64), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
