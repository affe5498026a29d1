"""Submitting a draft: one transaction that stores everything, then the work after the commit.

:func:`submit_draft` is what the check-answers page calls. Inside ONE database transaction it
re-validates the answers, keeps the form definition, draws the next reference number of the
commune and year, stores the submission with its attachments and its first history entry,
marks the draft as submitted and writes the outbox rows of the deliveries, the citizen's
confirmation e-mail among them. Only after the commit does it render the PDF and attempt the
deliveries (the confirmation goes out then); each of those may fail without losing anything
(the worker catches up).

Reference numbers are ``<SHORTCODE>-<YEAR>-<6 digits>`` (``WER-2026-000123``), counted per
commune and Berlin calendar year in :class:`ReferenceCounter`. One atomic statement inside the
submission's transaction draws the number (``INSERT ... ON CONFLICT DO UPDATE SET last_number
= last_number + 1 RETURNING``: the first submission of a year creates the row, every other
increments it). The row lock serialises concurrent submissions on PostgreSQL, and a
rolled-back submission gives its number back: the sequence has no gaps. SQLite takes its single
write lock at the start of the transaction (``BEGIN IMMEDIATE``), so concurrent writers queue
for the busy timeout instead of failing with "database is locked" when they upgrade a read to
a write.

The tracking token is ``secrets.token_urlsafe(32)``; only its SHA-256 is stored, and the
plain token exists only in the outcome of the submit (the confirmation page, the status link
and the confirmation e-mail carry it). The e-mail waits in the outbox encrypted and is erased
from it once delivered.

Submitter name and e-mail are taken from the answers by the fields' HTML ``autocomplete``
tokens: ``name`` (or ``given-name`` and ``family-name`` joined), or ``organization`` when no
person is named; ``email`` (or the first answered field of type ``email``) for the address
that receives the confirmation.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.catalogue.models import CommuneService
from app.catalogue.services import OfferedService, get_offered_service
from app.delivery import services as delivery
from app.delivery.models import Delivery
from app.extensions import db
from app.formspec import FieldType, ServiceSpec, clean_answers, missing_steps, visible_steps
from app.storage import blob_store
from app.submissions import pdf as submission_pdf
from app.submissions.drafts import keeping_loaded
from app.submissions.models import (
    Attachment,
    Draft,
    EventKind,
    FormDefinition,
    ReferenceCounter,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
)
from app.tenancy.models import Commune, Office
from app.timeutil import to_berlin, utcnow

log = logging.getLogger(__name__)

TOKEN_BYTES = 32
_UNSAFE_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|]+')
#: The citizen's status page (see app.submissions.status).
STATUS_ENDPOINT = "status.status"


class SubmissionRefused(Exception):
    """The draft cannot be submitted as it is; the citizen is sent back to fix it."""


class IncompleteDraft(SubmissionRefused):
    """Required answers are missing (or an uploaded file vanished) in these steps."""

    def __init__(self, steps: list[str]) -> None:
        super().__init__(", ".join(steps))
        self.steps = steps


class ServiceNotOffered(SubmissionRefused):
    """The commune no longer offers the service online, or names no receiving office."""


@dataclass(frozen=True)
class SubmitOutcome:
    """What a submit tells the web layer.

    ``token`` is the plain tracking token, known only when this call created the submission
    (``created``); a repeated submit of the same draft returns the existing submission with
    ``token`` None, because only the token's hash is stored.
    """

    submission: Submission
    token: str | None
    created: bool


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a tracking token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


#: Compared against when no submission matches, so a missing reference costs the same time.
_NO_MATCH_HASH = hash_token("no submission has this token")


def find_for_citizen(commune: Commune, reference: str, token: str | None) -> Submission | None:
    """The submission with this reference in this commune, if ``token`` is its tracking token.

    A wrong or missing token and an unknown reference look the same (None); the hashes are
    compared in constant time.
    """
    submission = find_submitted(commune, reference)
    given = hash_token(token or "")
    expected = submission.tracking_token_hash if submission is not None else _NO_MATCH_HASH
    if not hmac.compare_digest(given, expected) or submission is None or not token:
        return None
    return submission


def find_submitted(commune: Commune, reference: str) -> Submission | None:
    """The submission with this reference in this commune (for pages already authorised)."""
    return db.session.scalar(
        select(Submission).where(Submission.commune_id == commune.id, Submission.reference == reference)
    )


def format_reference(commune: Commune, year: int, number: int) -> str:
    """The human reference: ``WER-2026-000123``."""
    return f"{commune.short_code}-{year}-{number:06d}"


def _insert(session: Session, model: type[Any]) -> Any:
    """An INSERT of the session's dialect, which offers ON CONFLICT DO NOTHING."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"submissions need PostgreSQL or SQLite, not {dialect}")


def take_write_lock(session: Session) -> None:
    """On SQLite, start the transaction with BEGIN IMMEDIATE (no-op elsewhere).

    SQLite has one write lock per database. A transaction that reads first and writes later
    fails with "database is locked" when another writer got in between; taking the lock up
    front makes it wait its turn (busy timeout) instead. If the connection is already inside
    a transaction that wrote, it already holds the lock.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def next_reference_number(session: Session, commune_id: int, year: int) -> int:
    """Draw the next number of a commune's year inside the caller's transaction.

    One atomic statement: ``INSERT ... ON CONFLICT DO UPDATE SET last_number = last_number + 1
    RETURNING last_number`` creates the counter row race-free for the first submission of a
    year and increments it for every other. The row lock it takes is held until the caller
    commits or rolls back, so numbers are handed out one at a time and a rollback returns
    the number.
    """
    statement = (
        _insert(session, ReferenceCounter)
        .values(commune_id=commune_id, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=["commune_id", "year"],
            set_={"last_number": ReferenceCounter.last_number + 1},
        )
        .returning(ReferenceCounter.last_number)
    )
    return int(session.execute(statement).scalar_one())


def keep_definition(session: Session, service: ServiceSpec) -> None:
    """Store the definition the answers were filled against, once per version (race-free)."""
    session.execute(
        _insert(session, FormDefinition)
        .values(
            version=service.version,
            service_slug=service.slug,
            source=service.source,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["version"])
    )


def _fields_with_answers(service: ServiceSpec, answers: Mapping[str, Any]) -> Iterator[tuple[Any, Any]]:
    if service.form is None:
        return
    for spec in service.form.fields():
        if spec.name in answers:
            yield spec, answers[spec.name]


def submitter_of(service: ServiceSpec, answers: Mapping[str, Any]) -> tuple[str, str]:
    """The submitter's name and e-mail address, by the fields' autocomplete tokens."""
    by_token: dict[str, str] = {}
    first_email = ""
    for spec, value in _fields_with_answers(service, answers):
        if not isinstance(value, str) or not value.strip():
            continue
        if spec.autocomplete:
            by_token.setdefault(spec.autocomplete.split()[-1], value.strip())
        if spec.type is FieldType.EMAIL and not first_email:
            first_email = value.strip()
    name = by_token.get("name") or " ".join(
        part for part in (by_token.get("given-name"), by_token.get("family-name")) if part
    )
    name = name or by_token.get("organization", "")
    return name[:200], (by_token.get("email") or first_email)[:254]


def _file_answers(
    service: ServiceSpec, answers: Mapping[str, Any]
) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for spec, value in _fields_with_answers(service, answers):
        if spec.type is not FieldType.FILE:
            continue
        files = value if isinstance(value, list) else [value]
        for position, meta in enumerate(files):
            if isinstance(meta, dict):
                yield spec.name, position, meta


def _steps_with_vanished_files(service: ServiceSpec, answers: Mapping[str, Any]) -> list[str]:
    store = blob_store()
    steps = []
    for field_name, _position, meta in _file_answers(service, answers):
        key = meta.get("storage_key")
        if not isinstance(key, str) or not store.exists(key):
            step = service.form.step_of(field_name) if service.form else None
            if step is not None and step.name not in steps:
                steps.append(step.name)
    return steps


def clean_filename(name: str, fallback: str = "datei") -> str:
    """A file name fit to store, show and offer for download.

    No path, no control characters, nothing a shell or a header would read specially; letters
    of every script (umlauts, Polish and Sorbian letters) are kept.
    """
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE_IN_FILENAME.sub("_", name).strip(" ._")
    return name[:200] or fallback


def _attachments(service: ServiceSpec, answers: Mapping[str, Any]) -> list[Attachment]:
    return [
        Attachment(
            field_name=field_name,
            position=position,
            filename=clean_filename(str(meta.get("filename") or "")),
            media_type=str(meta.get("media_type") or "application/octet-stream")[:120],
            size=int(meta.get("size") or 0),
            sha256=str(meta["sha256"]),
            storage_key=str(meta["storage_key"]),
        )
        for field_name, position, meta in _file_answers(service, answers)
    ]


def _existing_for(draft: Draft) -> Submission | None:
    if draft.submission_id is not None:
        return db.session.get(Submission, draft.submission_id)
    return None


def _stored_from(draft_key: str) -> Submission | None:
    return db.session.scalar(select(Submission).where(Submission.draft_key == draft_key))


def _fee_total(offered: OfferedService, answers: Mapping[str, Any]) -> Decimal | None:
    """The fee as the check page showed it (the commune's override applied); None: no fees."""
    result = offered.fees(answers)
    if offered.priced_spec.fees is None and not result.lines:
        return None
    return result.total


def submit_draft(draft: Draft, *, locale: str, offered: OfferedService | None = None) -> SubmitOutcome:
    """Turn a complete draft into a submission (see the module docstring); idempotent per draft.

    ``offered`` is the commune's offer of the service when the caller has just read it (the
    check page has); otherwise it is read here.

    Raises :class:`ServiceNotOffered` when the commune no longer offers the service online
    and :class:`IncompleteDraft` when required answers are missing, an uploaded file has
    vanished, or the form changed since the draft was filled (then every visible step is
    named, to be walked again). A second submit of the same draft (double click, reload,
    two requests at once) returns the first submission with ``created`` False.
    """
    session = db.session
    take_write_lock(session)
    # Re-read the draft under a row lock: a concurrent submit of the same draft waits here
    # and then sees the submission the first one made.
    session.execute(
        select(Draft).where(Draft.id == draft.id).with_for_update().execution_options(populate_existing=True)
    )
    existing = _existing_for(draft)
    if existing is not None:
        session.commit()
        return SubmitOutcome(existing, None, False)

    if offered is None or offered.slug != draft.service_slug:
        offered = get_offered_service(draft.commune, draft.service_slug)
    if offered is None or offered.office is None:
        session.rollback()
        raise ServiceNotOffered(draft.service_slug)
    service = offered.spec
    answers = clean_answers(service, draft.answers or {})
    if draft.form_version != service.version and service.form is not None:
        session.rollback()
        raise IncompleteDraft([step.name for step in visible_steps(service.form, answers)])
    missing = missing_steps(service, answers)
    missing += [step for step in _steps_with_vanished_files(service, answers) if step not in missing]
    if missing:
        session.rollback()
        raise IncompleteDraft(missing)

    token = secrets.token_urlsafe(TOKEN_BYTES)
    draft_key = draft.token_hash
    try:
        submission = _store(session, draft, offered, answers, locale, token)
        delivery_ids = _enqueue(session, submission, offered.choice, offered.office, token)
        with keeping_loaded():
            session.commit()
    except IntegrityError:
        # Another request stored this draft between our check and our insert (draft_key is
        # unique); ours is rolled back with its reference number.
        session.rollback()
        existing = _stored_from(draft_key)
        if existing is None:
            raise
        return SubmitOutcome(existing, None, False)
    except BaseException:
        session.rollback()
        raise
    log.info("stored submission %s (%s)", submission.reference, service.slug)
    with keeping_loaded():
        _after_commit(submission, delivery_ids)
    return SubmitOutcome(submission, token, True)


def _store(
    session: Session,
    draft: Draft,
    offered: OfferedService,
    answers: dict[str, Any],
    locale: str,
    token: str,
) -> Submission:
    commune = draft.commune
    service = offered.spec
    assert offered.office is not None
    keep_definition(session, service)
    name, email = submitter_of(service, answers)
    now = utcnow()
    year = to_berlin(now).year
    # Drawn last, just before the insert, so the counter's row lock is held briefly.
    number = next_reference_number(session, commune.id, year)
    submission = Submission(
        commune_id=commune.id,
        office_id=offered.office.id,
        service_slug=service.slug,
        service_title=service.title[:200],
        form_version=service.version,
        reference=format_reference(commune, year, number),
        reference_year=year,
        reference_number=number,
        tracking_token_hash=hash_token(token),
        draft_key=draft.token_hash,
        status=SubmissionStatus.RECEIVED,
        locale=locale,
        answers=answers,
        submitter_name=name,
        submitter_email=email,
        fee_total=_fee_total(offered, answers),
        submitted_at=now,
        updated_at=now,
    )
    submission.attachments = _attachments(service, answers)
    submission.events = [
        SubmissionEvent(kind=EventKind.SUBMITTED, created_at=now, to_status=SubmissionStatus.RECEIVED)
    ]
    session.add(submission)
    session.flush()
    draft.submission_id = submission.id
    return submission


def _enqueue(
    session: Session,
    submission: Submission,
    commune_service: CommuneService,
    office: Office,
    token: str,
) -> list[int]:
    deliveries = delivery.enqueue_deliveries(submission, commune_service, office)
    confirmation = enqueue_confirmation(session, submission, token)
    if confirmation is not None:
        deliveries.append(confirmation)
    session.flush()
    return [row.id for row in deliveries]


def _after_commit(submission: Submission, delivery_ids: list[int]) -> None:
    """The work that follows a stored submission; none of it may undo or hide the submit."""
    reference = submission.reference
    submission_pdf.store_pdf(submission)
    try:
        delivery.attempt_after_commit(delivery_ids)
    except Exception:
        db.session.rollback()
        log.exception("deliveries of %s not attempted now; the worker retries", reference)
    # The attempts ran in sessions of their own: outbox rows this session still holds (loaded,
    # since the submit's commit kept them) are read afresh when next used.
    for held in list(db.session.identity_map.values()):
        if isinstance(held, Delivery):
            db.session.expire(held)


def citizen_status_url(submission: Submission, token: str) -> str | None:
    """The absolute address of the citizen's status page, for e-mails.

    Built on PUBLIC_BASE_URL when set, else on the current request's host; None outside a
    request without PUBLIC_BASE_URL.
    """
    values = {"commune": submission.commune.slug, "reference": submission.reference, "token": token}
    base = current_app.config.get("PUBLIC_BASE_URL", "")
    if base:
        return base + current_app.url_map.bind("").build(STATUS_ENDPOINT, values)
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for(STATUS_ENDPOINT, _external=True, **values)
    return None


def confirmation_mail(submission: Submission, token: str, *, pdf_attached: bool) -> tuple[str, str]:
    """The subject and plain-text body of the submitter's confirmation, in their language."""
    with force_locale(submission.locale):
        subject = gettext("Ihr Antrag %(reference)s ist eingegangen", reference=submission.reference)
        # The environment, not render_template: mails are written outside requests too, and the
        # page context processors need one.
        body = current_app.jinja_env.get_template("mail/submission_confirmation.txt").render(
            submission=submission,
            office=submission.office,
            commune=submission.commune,
            status_url=citizen_status_url(submission, token),
            pdf_attached=pdf_attached,
        )
    return subject, body


def enqueue_confirmation(session: Session, submission: Submission, token: str) -> Delivery | None:
    """The submitter's confirmation as an outbox row in ``session``'s transaction, or None
    when the answers name no e-mail address.

    Composed now, in the submitter's language, since the status link's plain token exists
    only here; the row keeps it encrypted until delivered. Sent with the PDF, for which the
    worker waits: the message says it is attached.
    """
    if not submission.submitter_email:
        return None
    subject, body = confirmation_mail(submission, token, pdf_attached=True)
    return delivery.enqueue_citizen_email(submission, subject, body, session=session)
