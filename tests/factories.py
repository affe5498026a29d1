"""Small builders for test data; each returns a committed model."""

from __future__ import annotations

import itertools
from typing import Any

from app.extensions import db
from app.tenancy.models import Association, Commune, Office

_seq = itertools.count(1)


def make_association(**fields: Any) -> Association:
    values: dict[str, Any] = {"name": "Digitale Kommunen Brandenburg", "short_name": "DKB"}
    values.update(fields)
    association = Association(**values)
    db.session.add(association)
    db.session.commit()
    return association


def make_commune(slug: str | None = None, **fields: Any) -> Commune:
    n = next(_seq)
    slug = slug or f"gemeinde-{n}"
    values: dict[str, Any] = {
        "slug": slug,
        "name": fields.pop("name", f"Gemeinde {n}"),
        "official_name": f"Gemeinde {n}",
        "short_code": f"G{n:03d}"[:6],
        "street": "Am Markt 1",
        "postal_code": "16356",
        "town": "Werneuchen",
        "email": f"info@{slug}.example",
        "phone": "033398 8160",
    }
    values.update(fields)
    commune = Commune(**values)
    db.session.add(commune)
    db.session.commit()
    return commune


def make_office(commune: Commune, slug: str | None = None, **fields: Any) -> Office:
    n = next(_seq)
    values: dict[str, Any] = {
        "commune_id": commune.id,
        "slug": slug or f"amt-{n}",
        "name": fields.pop("name", f"Amt {n}"),
        "kind": "ordnungsamt",
        "email": f"amt{n}@example.org",
    }
    values.update(fields)
    office = Office(**values)
    db.session.add(office)
    db.session.commit()
    return office
