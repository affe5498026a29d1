"""File inspection (Akteneinsicht): grants of a time-limited download page and their access log.

A clerk answers an approved inspection request by granting the applicant a page of chosen
documents. The applicant holds an unguessable token (in the link e-mailed to them); only its
SHA-256 is stored. A grant ends at ``expires_at`` or when revoked. Each document of a grant is
a copy of the reference to a stored file (blob key, name, type, size, SHA-256), so the page
shows exactly what was granted even if the submission changes later. Every page view and
every download is an :class:`InspectionAccess` row.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.submissions.models import Submission
from app.tenancy.models import Commune
from app.timeutil import UTCDateTime, utcnow


class DocumentSource(enum.StrEnum):
    """Where a granted document comes from."""

    PDF = "pdf"
    ATTACHMENT = "attachment"
    UPLOAD = "upload"


class InspectionGrant(db.Model):
    """The right of one applicant to download chosen documents until ``expires_at``."""

    __tablename__ = "inspection_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    #: The submission the inspection request came in with.
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    recipient_email: Mapped[str] = mapped_column(String(254))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_by_name: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_name: Mapped[str] = mapped_column(String(200), default="")

    commune: Mapped[Commune] = relationship()
    submission: Mapped[Submission] = relationship()
    documents: Mapped[list[InspectionDocument]] = relationship(
        back_populates="grant", order_by="InspectionDocument.position", cascade="all, delete-orphan"
    )
    accesses: Mapped[list[InspectionAccess]] = relationship(
        back_populates="grant", order_by="InspectionAccess.id", cascade="all, delete-orphan"
    )

    def active_at(self, moment: datetime) -> bool:
        """Whether the page may be opened at ``moment``: not revoked and not expired."""
        return self.revoked_at is None and moment < self.expires_at


class InspectionDocument(db.Model):
    """One document of a grant: a reference to a stored file with its name, type, size and hash."""

    __tablename__ = "inspection_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("inspection_grant.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[DocumentSource] = mapped_column(
        Enum(DocumentSource, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    #: The submission the file belongs to (None for a file the clerk uploaded).
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), index=True)

    grant: Mapped[InspectionGrant] = relationship(back_populates="documents")


class InspectionAccess(db.Model):
    """One use of a grant's link: the page (``document_id`` None) or one document's download."""

    __tablename__ = "inspection_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("inspection_grant.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection_document.id", ondelete="CASCADE"), index=True
    )
    accessed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    client_address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    grant: Mapped[InspectionGrant] = relationship(back_populates="accesses")
    document: Mapped[InspectionDocument | None] = relationship()
