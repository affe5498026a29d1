"""Association, Commune and Office."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import UTCDateTime, utcnow

#: Top-level paths of the portal itself, which a commune slug would shadow or be shadowed by.
RESERVED_SLUGS = frozenset(
    {
        "staff",
        "api",
        "static",
        "healthz",
        "search",
        "favicon.ico",
        "robots.txt",
        "association",
        "invitation",
        "barrierefreiheit",
        "leichte-sprache",
    }
)


def new_content_generation() -> str:
    """A fresh value for a ``content_generation`` column: random, so a row deleted and created
    again (or a database restored from a backup) never repeats one that named other content."""
    return secrets.token_hex(8)


class Association(db.Model):
    """The inter-municipal IT association (Zweckverband) that runs the portal."""

    __tablename__ = "association"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(80), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    town: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(60), default="")
    #: Changes whenever anything the association-wide public pages show changes (the
    #: association, any commune); part of the page cache's keys (see app.pagecache).
    content_generation: Mapped[str] = mapped_column(
        String(32), default=new_content_generation, server_default="0"
    )


class Commune(db.Model):
    """A member commune: a town, a municipality or an Amt."""

    __tablename__ = "commune"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    official_name: Mapped[str] = mapped_column(String(200))
    short_code: Mapped[str] = mapped_column(String(6), unique=True)
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    town: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(254), default="")
    opening_hours: Mapped[str] = mapped_column(Text, default="")
    brand_colour: Mapped[str] = mapped_column(String(7), default="#1d4f91")
    coat_of_arms_key: Mapped[str | None] = mapped_column(String(80), default=None)
    coat_of_arms_type: Mapped[str | None] = mapped_column(String(80), default=None)
    leitweg_ids: Mapped[list[str]] = mapped_column(db.JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    editors_may_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Changes whenever anything the commune's public pages show changes (its profile, offices,
    #: services, content); part of the page cache's keys (see app.pagecache).
    content_generation: Mapped[str] = mapped_column(
        String(32), default=new_content_generation, server_default="0"
    )

    offices: Mapped[list[Office]] = relationship(
        back_populates="commune", order_by="Office.name", cascade="all, delete-orphan"
    )

    @property
    def initials(self) -> str:
        """Up to two letters that stand in for a missing coat of arms."""
        words = [w for w in self.name.replace("/", " ").replace("-", " ").split() if w[:1].isalpha()]
        if not words:
            return self.name[:2].upper()
        if len(words) == 1:
            return words[0][:2].upper()
        return (words[0][0] + words[-1][0]).upper()

    @property
    def address_lines(self) -> list[str]:
        return [line for line in (self.street, f"{self.postal_code} {self.town}".strip()) if line]

    def __repr__(self) -> str:
        return f"<Commune {self.slug}>"


class Office(db.Model):
    """A department of a commune (Fachamt) that receives submissions."""

    __tablename__ = "office"
    __table_args__ = (UniqueConstraint("commune_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(60), default="")
    room: Mapped[str] = mapped_column(String(120), default="")
    opening_hours: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    commune: Mapped[Commune] = relationship(back_populates="offices")

    def __repr__(self) -> str:
        return f"<Office {self.slug}>"
