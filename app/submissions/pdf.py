"""The office PDF of a submission: built from the stored record, rendered once, stored with its hash.

:func:`document_for` maps a :class:`Submission` (its kept form definition, answers, attachments,
commune and office) to the plain input of :mod:`app.documents`; :func:`render_and_store_pdf`
renders it as PDF/A-3b with data.json (the stored answers, unchanged) and schema.json (the form's
JSON Schema) embedded, stores the bytes in the blob store and records key, SHA-256, size and time
on the submission in a transaction of its own. A failure is logged and kept in ``pdf_error``
(staff see it) and :func:`render_pending_pdfs`, run by the worker, tries again later. Both are
safe to repeat: a submission that has its PDF is never rendered again, and every download serves
the stored bytes.
"""

from __future__ import annotations

import functools
import json
import logging
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import inspect, or_, select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import documents
from app.catalogue.models import CommuneService
from app.catalogue.services import apply_fee_override
from app.extensions import db
from app.formspec import ServiceSpec, compute_fees, data_schema, summarise
from app.storage import blob_store
from app.submissions.models import EventKind, FormDefinition, Submission, SubmissionEvent
from app.tenancy.models import Commune
from app.timeutil import utcnow

log = logging.getLogger(__name__)

#: A submission whose PDF failed is tried again by the worker after this pause.
RETRY_FAILED_AFTER = timedelta(minutes=5)
#: At most this many characters of a rendering error are kept for staff.
ERROR_LENGTH = 2000


@functools.lru_cache(maxsize=128)
def _kept_service(version: str) -> ServiceSpec:
    # A kept definition never changes, so each version is parsed once per process.
    definition = db.session.get(FormDefinition, version)
    if definition is None:
        raise LookupError(f"no form definition {version}")
    return ServiceSpec.from_source(definition.source)


@functools.lru_cache(maxsize=128)
def _schema_json(version: str) -> bytes:
    return json.dumps(data_schema(_kept_service(version)), ensure_ascii=False, indent=2).encode("utf-8")


def service_of(submission: Submission) -> ServiceSpec:
    """The service definition exactly as the submission was filled against it."""
    return _kept_service(submission.form_version)


def _coat_of_arms(commune: Commune) -> bytes | None:
    if not commune.coat_of_arms_key:
        return None
    try:
        return blob_store().read(commune.coat_of_arms_key)
    except (OSError, ValueError):
        log.warning("coat of arms of %s (%s) is unreadable", commune.slug, commune.coat_of_arms_key)
        return None


def letterhead_of(commune: Commune) -> documents.Letterhead:
    """The commune as printed at the top of its documents."""
    return documents.Letterhead(
        name=commune.name,
        official_name=commune.official_name,
        address_lines=commune.address_lines,
        phone=commune.phone,
        email=commune.email,
        website=commune.website,
        coat_of_arms=_coat_of_arms(commune),
    )


def _fee_lines(submission: Submission, service: ServiceSpec) -> list[documents.FeeLine]:
    """The fee lines that add up to the stored total.

    The total was computed with the commune's fee override of the day. The definition's
    own lines are used when they add up to it; else the lines with today's override, if
    those do; else the stored total stands as one line.
    """
    if submission.fee_total is None:
        return []
    fees = compute_fees(service, submission.answers)
    if fees.total != submission.fee_total:
        choice = db.session.scalar(
            select(CommuneService).where(
                CommuneService.commune_id == submission.commune_id,
                CommuneService.service_slug == submission.service_slug,
            )
        )
        if choice is not None:
            fees = compute_fees(apply_fee_override(service, choice.fee_override), submission.answers)
    if fees.total == submission.fee_total:
        return [documents.FeeLine(line.label, line.amount) for line in fees.lines]
    return [documents.FeeLine("Gebühr", Decimal(submission.fee_total))]


def data_json(submission: Submission) -> bytes:
    """The stored answers as embedded in the PDF (data.json), unchanged."""
    return json.dumps(submission.answers, ensure_ascii=False, sort_keys=True).encode("utf-8")


def document_for(submission: Submission) -> documents.SubmissionDocument:
    """The values the office PDF of ``submission`` shows and carries (German labels)."""
    service = service_of(submission)
    sections = [
        documents.AnswerSection(
            title=section.title,
            groups=[
                documents.AnswerGroup(
                    fieldset.legend, [documents.AnswerRow(row.label, row.text) for row in fieldset.rows]
                )
                for fieldset in section.fieldsets
            ],
        )
        for section in summarise(service, submission.answers)
    ]
    labels = {spec.name: spec.label for spec in service.form.fields()} if service.form else {}
    fee_lines = _fee_lines(submission, service)
    return documents.SubmissionDocument(
        letterhead=letterhead_of(submission.commune),
        service_title=submission.service_title,
        reference=submission.reference,
        submitted_at=submission.submitted_at,
        sections=sections,
        data_json=data_json(submission),
        schema_json=_schema_json(submission.form_version),
        fee_lines=fee_lines,
        fee_total=Decimal(submission.fee_total) if submission.fee_total is not None else None,
        fee_note=service.fees.text or "" if service.fees is not None and not fee_lines else "",
        attachments=[
            documents.AttachmentEntry(
                attachment.filename,
                attachment.media_type,
                attachment.size,
                attachment.sha256,
                labels.get(attachment.field_name, ""),
            )
            for attachment in submission.attachments
        ],
        office_name=submission.office.name,
    )


def render_pdf(submission: Submission) -> bytes:
    """The office PDF/A-3b of ``submission`` (not stored; see :func:`render_and_store_pdf`)."""
    return documents.render_submission_pdf(document_for(submission))


def render_and_store_pdf(submission_id: int) -> bool:
    """Render and store the PDF of one submission unless it has one; True if it has one now.

    Runs in its own transaction and commits. A failure is logged, recorded in ``pdf_error``
    with a ``pdf_failed`` history entry (once per distinct error) and left for
    :func:`render_pending_pdfs`; it never raises for a rendering problem.
    """
    submission = db.session.scalar(
        select(Submission)
        .where(Submission.id == submission_id)
        .options(
            joinedload(Submission.commune),
            joinedload(Submission.office),
            selectinload(Submission.attachments),
        )
        .execution_options(populate_existing=True)
    )
    if submission is None:
        return False
    return store_pdf(submission)


#: The columns that record a stored PDF on its submission.
_PDF_COLUMNS = ("pdf_key", "pdf_sha256", "pdf_size", "pdf_rendered_at", "pdf_error", "updated_at")


def store_pdf(submission: Submission) -> bool:
    """:func:`render_and_store_pdf` for a submission at hand with its commune, office and attachments.

    The submit calls it with the submission it has just committed, so nothing is read again.
    On success the submission object shows the stored PDF (without a database round trip).
    """
    if submission.pdf_key is not None:
        return True
    session = db.session
    submission_id, reference = submission.id, submission.reference
    try:
        data = render_pdf(submission)
        stored = blob_store().put(data, session=session)
        now = utcnow()
        recorded = dict(zip(_PDF_COLUMNS, (stored.key, stored.sha256, stored.size, now, None, now),
                            strict=True))
        # A plain UPDATE guarded by "no PDF yet": two renderers racing store one PDF, and the
        # submission's optimistic-locking version is left to the clerks' edits.
        result = session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.pdf_key.is_(None))
            .values(**recorded)
            .execution_options(synchronize_session=False)
        )
        event = None
        if result.rowcount == 1:
            event = SubmissionEvent(submission_id=submission_id, kind=EventKind.PDF_RENDERED, created_at=now)
            session.add(event)
        session.commit()
    except Exception as exc:
        session.rollback()
        log.exception("PDF of submission %s could not be rendered; the worker tries again", reference)
        _record_failure(submission_id, f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH])
        # The failure is on record now; whoever looks at the submission next reads it afresh.
        session.expire(submission)
        return False
    if event is not None:
        for column, value in recorded.items():
            set_committed_value(submission, column, value)
        if "events" not in inspect(submission).unloaded:
            set_committed_value(submission, "events", [*submission.events, event])
    else:
        # Another renderer was first: its PDF is the one on record.
        session.expire(submission, list(_PDF_COLUMNS))
    log.info("rendered PDF of %s (%d bytes)", reference, stored.size)
    return True


def _record_failure(submission_id: int, error: str) -> None:
    session = db.session
    try:
        previous = session.scalar(select(Submission.pdf_error).where(Submission.id == submission_id))
        session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.pdf_key.is_(None))
            .values(pdf_error=error, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if previous != error:
            session.add(
                SubmissionEvent(submission_id=submission_id, kind=EventKind.PDF_FAILED, text=error)
            )
        session.commit()
    except Exception:
        session.rollback()
        log.exception("could not record the PDF failure of submission %s", submission_id)


def pending_pdf_ids(*, retry_failed_after: timedelta = RETRY_FAILED_AFTER, limit: int = 100) -> list[int]:
    """Submissions without a PDF, oldest first; failed ones only after a pause since the failure."""
    failed_before = utcnow() - retry_failed_after
    return list(
        db.session.scalars(
            select(Submission.id)
            .where(
                Submission.pdf_key.is_(None),
                Submission.anonymised_at.is_(None),
                or_(Submission.pdf_error.is_(None), Submission.updated_at <= failed_before),
            )
            .order_by(Submission.id)
            .limit(limit)
        )
    )


def render_pending_pdfs(*, retry_failed_after: timedelta = RETRY_FAILED_AFTER, limit: int = 100) -> int:
    """Render the PDFs that are still missing (the worker's step); returns how many were stored.

    Idempotent: submissions that have a PDF are skipped, and two workers that pick the same
    submission store it once.
    """
    ids = pending_pdf_ids(retry_failed_after=retry_failed_after, limit=limit)
    db.session.rollback()
    return sum(1 for submission_id in ids if render_and_store_pdf(submission_id))
