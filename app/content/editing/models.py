"""The editing history of content items: one :class:`ContentVersion` per save.

A version keeps a JSON snapshot of the item's editable fields (see
:data:`app.content.editing.services.VERSIONED_FIELDS`), who saved it and when, so
editors can compare two saves and restore an earlier one. The workflow state is
not part of a snapshot: restoring wording never publishes or retracts anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.content.models import ContentKind
from app.extensions import db
from app.timeutil import UTCDateTime, utcnow


class ContentVersion(db.Model):
    """One saved state of a page, news item, event or document.

    ``number`` counts from 1 per item. ``author_name`` is a snapshot, so the history
    still reads right after the account changes; ``note`` says what kind of save it
    was (created, edited, restored from version n).
    """

    __tablename__ = "content_version"
    __table_args__ = (
        UniqueConstraint("kind", "item_id", "number"),
        Index("ix_content_version_commune_id_author_id", "commune_id", "author_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"))
    kind: Mapped[ContentKind] = mapped_column(
        Enum(ContentKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    item_id: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), default=None
    )
    author_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(200), default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"<ContentVersion {self.kind.value}:{self.item_id} #{self.number}>"
