"""Small helpers of the editors' tests: URLs and reading pages."""

from __future__ import annotations

from sqlalchemy import select

from app.content.models import ContentItem
from app.extensions import db
from app.staff.models import AuditAction, AuditEntry
from app.tenancy.models import Commune

FORM_DEFAULTS = {"action": "save"}


def url(commune: Commune, rest: str = "") -> str:
    return f"/staff/{commune.slug}/content/{rest}"


def audit_actions(commune: Commune) -> list[AuditAction]:
    return list(
        db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.commune_id == commune.id).order_by(AuditEntry.id)
        )
    )


def reload(item: ContentItem) -> ContentItem:
    db.session.expire_all()
    found = db.session.get(type(item), item.id)
    assert found is not None
    return found
