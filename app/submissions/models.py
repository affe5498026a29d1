"""Submission, its attachments and history, the form definitions they were filled
against, reference counters, and the citizen's in-progress drafts."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.tenancy.models import Commune, Office
from app.timeutil import UTCDateTime, utcnow


class SubmissionStatus(enum.StrEnum):
    """Where a submission stands in the office's processing."""

    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    COMPLETED = "completed"
    REJECTED = "rejected"


class EventKind(enum.StrEnum):
    """What a history entry records."""

    SUBMITTED = "submitted"
    STATUS_CHANGED = "status_changed"
    NOTE = "note"
    MESSAGE = "message"
    ASSIGNED = "assigned"
    PDF_RENDERED = "pdf_rendered"
    PDF_FAILED = "pdf_failed"
    EXPORTED = "exported"
    ANONYMISED = "anonymised"


def _enum(cls: type[enum.Enum], length: int = 20) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class FormDefinition(db.Model):
    """A service definition exactly as a submission was filled against it.

    Keyed by its version hash, so each version is kept once however many
    submissions use it, and old submissions still render after the form changes.
    """

    __tablename__ = "form_definition"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_slug: Mapped[str] = mapped_column(String(80), index=True)
    source: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReferenceCounter(db.Model):
    """The last reference number handed out per commune and year.

    Incremented inside the submission's transaction, so a rolled-back
    submission gives its number back and the sequence has no gaps.
    """

    __tablename__ = "reference_counter"

    commune_id: Mapped[int] = mapped_column(
        ForeignKey("commune.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Submission(db.Model):
    """An application as sent by a citizen or business."""

    __tablename__ = "submission"
    __table_args__ = (
        UniqueConstraint("commune_id", "reference"),
        UniqueConstraint("commune_id", "reference_year", "reference_number"),
        Index("ix_submission_office_status_submitted", "office_id", "status", "submitted_at", "id"),
        Index("ix_submission_commune_submitted", "commune_id", "submitted_at", "id"),
        Index("ix_submission_commune_status_submitted", "commune_id", "status", "submitted_at", "id"),
        Index("ix_submission_office_submitted", "office_id", "submitted_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="RESTRICT"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="RESTRICT"), index=True)
    service_slug: Mapped[str] = mapped_column(String(80), index=True)
    service_title: Mapped[str] = mapped_column(String(200))
    form_version: Mapped[str] = mapped_column(ForeignKey("form_definition.version"))
    reference: Mapped[str] = mapped_column(String(32))
    reference_year: Mapped[int] = mapped_column(Integer)
    reference_number: Mapped[int] = mapped_column(Integer)
    tracking_token_hash: Mapped[str] = mapped_column(String(64))
    #: The draft this submission was made from; unique, so a double submit finds the first.
    draft_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[SubmissionStatus] = mapped_column(
        _enum(SubmissionStatus), default=SubmissionStatus.RECEIVED, index=True
    )
    locale: Mapped[str] = mapped_column(String(8), default="de")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitter_name: Mapped[str] = mapped_column(String(200), default="")
    submitter_email: Mapped[str] = mapped_column(String(254), default="")
    fee_total: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), index=True
    )
    pdf_key: Mapped[str | None] = mapped_column(String(64))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_size: Mapped[int | None] = mapped_column(Integer)
    pdf_rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pdf_error: Mapped[str | None] = mapped_column(Text)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Optimistic locking: an UPDATE that finds another version fails loudly.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    commune: Mapped[Commune] = relationship()
    office: Mapped[Office] = relationship()
    definition: Mapped[FormDefinition] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="submission", order_by="Attachment.position", cascade="all, delete-orphan"
    )
    events: Mapped[list[SubmissionEvent]] = relationship(
        back_populates="submission", order_by="SubmissionEvent.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Submission {self.reference}>"


class Attachment(db.Model):
    """A file the submitter uploaded, stored content-addressed."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    field_name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(64), index=True)

    submission: Mapped[Submission] = relationship(back_populates="attachments")


class SubmissionEvent(db.Model):
    """One entry of a submission's history: who did what, when."""

    __tablename__ = "submission_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    from_status: Mapped[SubmissionStatus | None] = mapped_column(_enum(SubmissionStatus))
    to_status: Mapped[SubmissionStatus | None] = mapped_column(_enum(SubmissionStatus))
    text: Mapped[str] = mapped_column(Text, default="")
    #: Shown on the citizen's status page (and e-mailed to them).
    visible_to_citizen: Mapped[bool] = mapped_column(Boolean, default=False)

    submission: Mapped[Submission] = relationship(back_populates="events")


class Draft(db.Model):
    """An application being filled in, kept server-side.

    The citizen holds an unguessable token (cookie and resume link); only its
    SHA-256 is stored. Answers survive errors, Back, Change and a browser restart
    until ``expires_at``; the purge command removes expired drafts.
    """

    __tablename__ = "draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    service_slug: Mapped[str] = mapped_column(String(80))
    form_version: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    completed_steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    locale: Mapped[str] = mapped_column(String(8), default="de")
    resume_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission.id", ondelete="SET NULL")
    )

    commune: Mapped[Commune] = relationship()
