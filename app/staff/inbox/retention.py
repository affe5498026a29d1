"""Retention (GDPR): anonymising submissions whose retention period has run out, purging drafts.

A completed or rejected submission is kept for the retention period of its service,
counted from ``completed_at``: the commune's ``CommuneService.retention_days``, else the
service definition's ``retention_days``, else :data:`DEFAULT_RETENTION_DAYS`. Then
:func:`purge` anonymises it. The row stays (reference, service, office, status and dates
keep the statistics and the audit trail meaningful); what names or describes the person
goes:

- the answers become ``{}``, submitter name and e-mail address are cleared;
- the texts of the history (messages, reasons, notes) are cleared, the entries stay;
- the PDF and every attachment's file are deleted from storage once no other row refers
  to the same content; attachment rows stay with the file name replaced by
  :data:`REDACTED_FILENAME` and no storage key (size and type remain);
- ``anonymised_at`` is set and an ``anonymised`` event and an audit entry are written.

Unfinished drafts expire after DRAFT_LIFETIME_DAYS; :func:`purge` removes them with
:func:`app.submissions.drafts.purge_expired_drafts`.

Safe to run from cron, repeatedly and concurrently: each submission is anonymised in its own
transaction, its row locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and updated only if
still not anonymised (the version column makes a concurrent run's UPDATE fail, which is then
skipped). Files are deleted after the commit, so a rolled-back run leaves nothing dangling.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm.exc import StaleDataError

from app.catalogue.models import CommuneService
from app.catalogue.services import get_catalogue
from app.delivery.models import Delivery, DeliveryChannel
from app.extensions import db
from app.staff.audit import Origin, record
from app.staff.inbox.services import FINAL_STATUSES
from app.staff.models import AuditAction
from app.submissions.drafts import purge_expired_drafts, release_blobs
from app.submissions.models import Draft, EventKind, Submission, SubmissionEvent
from app.tenancy.models import Commune
from app.timeutil import utcnow

log = logging.getLogger(__name__)

#: Retention after completion when neither the commune nor the service sets one.
DEFAULT_RETENTION_DAYS = 365
#: What an anonymised attachment is called.
REDACTED_FILENAME = "[gelöscht]"
#: The history text of the anonymisation itself.
ANONYMISED_TEXT = "Nach Ablauf der Aufbewahrungsfrist anonymisiert."


@dataclass(frozen=True)
class DueSubmission:
    """A submission whose retention period is over."""

    id: int
    reference: str
    commune_id: int
    retention_days: int


@dataclass
class PurgeReport:
    """What a purge did (or, in a dry run, would do)."""

    dry_run: bool
    anonymised: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    drafts: int = 0
    files: int = 0


def retention_days(commune: Commune, service_slug: str) -> int:
    """The retention period of ``commune``'s submissions of ``service_slug``, in days."""
    override = db.session.scalar(
        select(CommuneService.retention_days).where(
            CommuneService.commune_id == commune.id, CommuneService.service_slug == service_slug
        )
    )
    if override is not None:
        return int(override)
    spec = get_catalogue().get(service_slug, commune_slug=commune.slug)
    if spec is not None and spec.retention_days is not None:
        return int(spec.retention_days)
    return DEFAULT_RETENTION_DAYS


def _open_final() -> list[object]:
    return [Submission.anonymised_at.is_(None), Submission.status.in_(FINAL_STATUSES)]


def due_submissions(now: datetime) -> Iterator[DueSubmission]:
    """Every completed or rejected submission past its retention period, not yet anonymised."""
    groups = db.session.execute(
        select(Submission.commune_id, Submission.service_slug, func.min(Submission.completed_at))
        .where(*_open_final(), Submission.completed_at.is_not(None))
        .group_by(Submission.commune_id, Submission.service_slug)
        .order_by(Submission.commune_id, Submission.service_slug)
    ).all()
    for commune_id, service_slug, oldest in groups:
        commune = db.session.get(Commune, commune_id)
        assert commune is not None
        days = retention_days(commune, service_slug)
        cutoff = now - timedelta(days=days)
        if oldest is None or oldest > cutoff:
            continue
        rows = db.session.execute(
            select(Submission.id, Submission.reference)
            .where(
                *_open_final(),
                Submission.commune_id == commune_id,
                Submission.service_slug == service_slug,
                Submission.completed_at <= cutoff,
            )
            .order_by(Submission.id)
        )
        for submission_id, reference in rows:
            yield DueSubmission(submission_id, reference, commune_id, days)


def _lock(submission_id: int) -> Submission | None:
    stmt = select(Submission).where(Submission.id == submission_id, Submission.anonymised_at.is_(None))
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return db.session.scalar(stmt)


def anonymise(submission: Submission, *, now: datetime, origin: Origin, retention: int) -> set[str]:
    """Anonymise one submission in the current transaction; returns the blob keys it released."""
    # The outbox keeps no message to the citizen (it holds the tracking token) and no address.
    # Written first, while the submission has no changes an autoflush would write early: its
    # version check belongs to the commit, where a concurrent run's win is caught.
    db.session.execute(
        update(Delivery)
        .where(Delivery.submission_id == submission.id)
        .values(payload_stored=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Delivery)
        .where(Delivery.submission_id == submission.id, Delivery.channel == DeliveryChannel.CITIZEN_EMAIL)
        .values(target="")
        .execution_options(synchronize_session=False)
    )
    keys = {key for key in [submission.pdf_key] if key}
    for attachment in submission.attachments:
        if attachment.storage_key:
            keys.add(attachment.storage_key)
        attachment.storage_key = None
        attachment.filename = REDACTED_FILENAME
        attachment.sha256 = ""
    for event in submission.events:
        event.text = ""
    submission.answers = {}
    submission.submitter_name = ""
    submission.submitter_email = ""
    submission.pdf_key = None
    submission.pdf_sha256 = None
    submission.pdf_size = None
    submission.pdf_error = None
    submission.anonymised_at = now
    submission.events.append(
        SubmissionEvent(kind=EventKind.ANONYMISED, created_at=now, actor_name="", text=ANONYMISED_TEXT)
    )
    record(
        AuditAction.SUBMISSION_PURGED,
        origin=origin,
        commune_id=submission.commune_id,
        object_type="submission",
        object_id=submission.reference,
        details={"retention_days": retention, "files": len(keys)},
        at=now,
    )
    return keys


def purge(*, dry_run: bool = False, now: datetime | None = None, origin: Origin | None = None) -> PurgeReport:
    """Anonymise every submission that is due and delete expired drafts (see the module docs)."""
    now = now or utcnow()
    origin = origin or Origin.command("submissions purge")
    report = PurgeReport(dry_run=dry_run)
    due = list(due_submissions(now))
    db.session.rollback()
    if dry_run:
        report.anonymised = [item.reference for item in due]
        report.drafts = (
            db.session.scalar(select(func.count()).select_from(Draft).where(Draft.expires_at <= now)) or 0
        )
        db.session.rollback()
        return report
    for item in due:
        submission = _lock(item.id)
        if submission is None:
            db.session.rollback()
            report.skipped.append(item.reference)
            continue
        keys = anonymise(submission, now=now, origin=origin, retention=item.retention_days)
        try:
            db.session.commit()
        except StaleDataError:
            db.session.rollback()
            report.skipped.append(item.reference)
            continue
        report.anonymised.append(item.reference)
        report.files += release_blobs(keys)
        db.session.rollback()
    drafts = purge_expired_drafts(now)
    report.drafts, report.files = drafts.drafts, report.files + drafts.blobs
    if drafts.drafts:
        record(
            AuditAction.DRAFT_PURGED,
            origin=origin,
            object_type="draft",
            details={"drafts": drafts.drafts, "files": drafts.blobs},
            at=now,
        )
        db.session.commit()
    log.info(
        "purge: %d submission(s) anonymised, %d skipped, %d draft(s), %d file(s) deleted",
        len(report.anonymised),
        len(report.skipped),
        report.drafts,
        report.files,
    )
    return report
