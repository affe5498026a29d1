"""Domain functions for communes and offices."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.tenancy.models import RESERVED_SLUGS, Association, Commune, Office

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")


def is_valid_commune_slug(slug: str) -> bool:
    """A commune slug is lowercase ASCII, may not collide with a top-level route."""
    return bool(SLUG_PATTERN.match(slug)) and slug not in RESERVED_SLUGS


def find_commune(slug: str) -> Commune | None:
    """The commune with this URL slug, active or not."""
    return db.session.scalar(select(Commune).where(Commune.slug == slug))


def active_communes() -> list[Commune]:
    """Member communes that are live, in alphabetical order."""
    return list(db.session.scalars(select(Commune).where(Commune.active).order_by(Commune.name)))


def get_association() -> Association | None:
    return db.session.scalar(select(Association).order_by(Association.id).limit(1))


def commune_offices(commune: Commune, *, only_active: bool = True) -> list[Office]:
    stmt = select(Office).where(Office.commune_id == commune.id).order_by(Office.name)
    if only_active:
        stmt = stmt.where(Office.active)
    return list(db.session.scalars(stmt))
