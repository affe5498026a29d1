"""The office inbox: finding submissions, and processing them.

Queries
    :func:`inbox_page` lists a commune's submissions the user may see (clerks: their
    offices only, through :func:`app.staff.permissions.office_filter`), filtered by an
    :class:`InboxFilter` and sorted by a :class:`SortOrder`, one keyset page at a time: a
    page's cursor is the sort key of its last (or first) row, so page 50 costs what page
    1 costs. :func:`status_counts` counts by status under the same filter;
    :func:`find_submission` opens one submission by reference, ``None`` for anything the
    user may not see.

Workflow
    :data:`TRANSITIONS` is the one table of allowed status changes. :func:`change_status`,
    :func:`assign` and :func:`add_note` record who and when (a :class:`SubmissionEvent`
    and an audit entry); a message to the citizen appears on the status page and is
    e-mailed after the commit in the submission's language. Changes that overwrite
    something take the version the clerk saw; a stale version raises
    :class:`StaleSubmission` and nothing is written (SQLAlchemy's ``version_id_col``
    catches the race between check and commit). Functions add to the session; the
    caller commits, or rolls back on :class:`WorkflowError`.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, false, func, literal, select, tuple_, union_all
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.delivery.mail import compose_mail, send_after_commit
from app.delivery.models import Delivery
from app.delivery.services import DeliveryNotRetryable, retry_delivery
from app.extensions import db
from app.staff import permissions
from app.staff.audit import Origin, record
from app.staff.inbox.search import search_clause
from app.staff.models import AuditAction, Role, User
from app.submissions.models import EventKind, Submission, SubmissionEvent, SubmissionStatus
from app.tenancy.models import Commune, Office
from app.timeutil import utcnow

#: Rows per inbox page.
PAGE_SIZE = 50
#: Status counts are exact up to this number; above it the inbox shows "more than".
COUNT_LIMIT = 1000
#: Longest note or message accepted.
MAX_TEXT_LENGTH = 5000
#: Longest reference looked up (anything longer is no reference).
MAX_REFERENCE_LENGTH = 32

STATUS_LABELS: dict[SubmissionStatus, Any] = {
    SubmissionStatus.RECEIVED: _l("Eingegangen"),
    SubmissionStatus.IN_PROGRESS: _l("In Bearbeitung"),
    SubmissionStatus.WAITING: _l("Wartet auf Rückmeldung"),
    SubmissionStatus.COMPLETED: _l("Abgeschlossen"),
    SubmissionStatus.REJECTED: _l("Abgelehnt"),
}

EVENT_LABELS: dict[EventKind, Any] = {
    EventKind.SUBMITTED: _l("Eingegangen"),
    EventKind.STATUS_CHANGED: _l("Status geändert"),
    EventKind.NOTE: _l("Interne Notiz"),
    EventKind.MESSAGE: _l("Nachricht an die antragstellende Person"),
    EventKind.ASSIGNED: _l("Zuweisung"),
    EventKind.PDF_RENDERED: _l("PDF erstellt"),
    EventKind.PDF_FAILED: _l("PDF-Erstellung fehlgeschlagen"),
    EventKind.EXPORTED: _l("Exportiert"),
    EventKind.ANONYMISED: _l("Anonymisiert"),
}

#: The allowed status changes: from → the statuses it may go to. Completed and rejected are final.
TRANSITIONS: dict[SubmissionStatus, tuple[SubmissionStatus, ...]] = {
    SubmissionStatus.RECEIVED: (SubmissionStatus.IN_PROGRESS,),
    SubmissionStatus.IN_PROGRESS: (
        SubmissionStatus.WAITING,
        SubmissionStatus.COMPLETED,
        SubmissionStatus.REJECTED,
    ),
    SubmissionStatus.WAITING: (SubmissionStatus.IN_PROGRESS,),
    SubmissionStatus.COMPLETED: (),
    SubmissionStatus.REJECTED: (),
}
#: Statuses that end the processing (retention runs from then on).
FINAL_STATUSES = frozenset({SubmissionStatus.COMPLETED, SubmissionStatus.REJECTED})
#: Changes that need a text: the reason of a rejection, what the citizen should send.
MESSAGE_REQUIRED = {
    SubmissionStatus.REJECTED: _l("Bitte geben Sie den Grund der Ablehnung an."),
    SubmissionStatus.WAITING: _l("Bitte schreiben Sie, worauf Sie von der antragstellenden Person warten."),
}


def status_label(status: SubmissionStatus) -> str:
    """The staff's name of a status."""
    return str(STATUS_LABELS[status])


# --------------------------------------------------------------------------- queries


class SortOrder(enum.StrEnum):
    """How the inbox is sorted; each order is a keyset (its columns end with the id)."""

    NEWEST = "newest"
    OLDEST = "oldest"
    REFERENCE = "reference"
    STATUS = "status"

    @property
    def label(self) -> str:
        return str(SORT_LABELS[self])


SORT_LABELS = {
    SortOrder.NEWEST: _l("Neueste zuerst"),
    SortOrder.OLDEST: _l("Älteste zuerst"),
    SortOrder.REFERENCE: _l("Aktenzeichen"),
    SortOrder.STATUS: _l("Status, darin älteste zuerst"),
}


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox narrows to. ``None`` (or empty) means "any".

    ``assignee_id`` keeps one person's submissions, ``unassigned`` those of nobody;
    ``since`` and ``until`` bound the submission time (``until`` exclusive).
    """

    office_id: int | None = None
    status: SubmissionStatus | None = None
    service_slug: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    since: datetime | None = None
    until: datetime | None = None
    query: str = ""
    sort: SortOrder = SortOrder.NEWEST


@dataclass(frozen=True)
class InboxRow:
    """One line of the inbox: what the list shows, without the answers."""

    id: int
    reference: str
    service_title: str
    submitter_name: str
    submitter_email: str
    submitted_at: datetime
    status: SubmissionStatus
    office_name: str
    assignee_name: str | None

    @property
    def status_label(self) -> str:
        return status_label(self.status)


@dataclass
class InboxPage:
    """One page of the inbox and the cursors of the pages before and after it."""

    rows: list[InboxRow] = field(default_factory=list)
    next_cursor: str | None = None
    previous_cursor: str | None = None


_DESCENDING = {SortOrder.NEWEST}


def _sort_columns(order: SortOrder) -> list[Any]:
    if order is SortOrder.REFERENCE:
        return [Submission.reference, Submission.id]
    if order is SortOrder.STATUS:
        return [Submission.status, Submission.submitted_at, Submission.id]
    return [Submission.submitted_at, Submission.id]


def _cursor_values(order: SortOrder, row: InboxRow) -> list[Any]:
    if order is SortOrder.REFERENCE:
        return [row.reference, row.id]
    if order is SortOrder.STATUS:
        return [row.status.value, row.submitted_at.isoformat(), row.id]
    return [row.submitted_at.isoformat(), row.id]


def encode_cursor(order: SortOrder, row: InboxRow) -> str:
    """An opaque, URL-safe cursor pointing just past ``row`` in ``order``."""
    raw = json.dumps(_cursor_values(order, row), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(order: SortOrder, cursor: str | None) -> list[Any] | None:
    """The sort key a cursor carries, or ``None`` when it is missing or not one of ours."""
    if not cursor or len(cursor) > 400:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or not isinstance(values[-1], int) or isinstance(values[-1], bool):
            return None
        if order is SortOrder.REFERENCE and len(values) == 2 and isinstance(values[0], str):
            return values
        if order is SortOrder.STATUS and len(values) == 3:
            return [SubmissionStatus(values[0]), datetime.fromisoformat(values[1]), values[2]]
        if order in (SortOrder.NEWEST, SortOrder.OLDEST) and len(values) == 2:
            return [datetime.fromisoformat(values[0]), values[1]]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, IndexError):
        return None
    return None


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def inbox_conditions(
    user: User, commune: Commune, criteria: InboxFilter, *, with_status: bool = True
) -> list[ColumnElement[bool]]:
    """The WHERE clauses of the inbox: the commune, the user's offices, then ``criteria``."""
    if permissions.sees_every_office(user, commune):
        conditions: list[ColumnElement[bool]] = [Submission.commune_id == commune.id]
    else:
        # The commune's offices the clerk works in: the office indexes alone then answer the
        # query (and the counts, index-only), without a commune condition that needs the heap.
        office_ids = sorted(office.id for office in permissions.visible_offices(user, commune))
        conditions = [Submission.office_id.in_(office_ids) if office_ids else false()]
    if criteria.office_id is not None:
        conditions.append(Submission.office_id == criteria.office_id)
    if with_status and criteria.status is not None:
        conditions.append(Submission.status == criteria.status)
    if criteria.service_slug:
        conditions.append(Submission.service_slug == criteria.service_slug)
    if criteria.unassigned:
        conditions.append(Submission.assignee_id.is_(None))
    elif criteria.assignee_id is not None:
        conditions.append(Submission.assignee_id == criteria.assignee_id)
    if criteria.since is not None:
        conditions.append(Submission.submitted_at >= criteria.since)
    if criteria.until is not None:
        conditions.append(Submission.submitted_at < criteria.until)
    if criteria.query.strip():
        match = search_clause(criteria.query, _dialect())
        if match is not None:
            conditions.append(match)
    return conditions


def _row_query() -> Select[Any]:
    return (
        select(
            Submission.id,
            Submission.reference,
            Submission.service_title,
            Submission.submitter_name,
            Submission.submitter_email,
            Submission.submitted_at,
            Submission.status,
            Office.name.label("office_name"),
            User.name.label("assignee_name"),
        )
        .join(Office, Office.id == Submission.office_id)
        .outerjoin(User, User.id == Submission.assignee_id)
    )


def inbox_page(
    user: User,
    commune: Commune,
    criteria: InboxFilter,
    *,
    after: str | None = None,
    before: str | None = None,
    size: int | None = None,
) -> InboxPage:
    """One page of the inbox: the first, the one after cursor ``after`` or before ``before``.

    An unreadable cursor gives the first page. Each page is one index range scan
    (``LIMIT size + 1`` from the cursor), however deep it lies.
    """
    size = size or PAGE_SIZE
    order = criteria.sort
    columns = _sort_columns(order)
    descending = order in _DESCENDING
    key = tuple_(*columns)

    def bound(values: list[Any]) -> Any:
        # Typed, so the dates are stored-format on SQLite and the enum binds its value.
        pairs = zip(values, columns, strict=True)
        return tuple_(*(literal(value, type_=column.type) for value, column in pairs))

    stmt = _row_query().where(*inbox_conditions(user, commune, criteria))
    after_key = decode_cursor(order, after)
    before_key = decode_cursor(order, before) if after_key is None else None
    backwards = before_key is not None
    if after_key is not None:
        stmt = stmt.where(key < bound(after_key) if descending else key > bound(after_key))
    elif before_key is not None:
        stmt = stmt.where(key > bound(before_key) if descending else key < bound(before_key))
    # Walking backwards reads in the opposite order and turns the page round afterwards.
    ascending = descending == backwards
    stmt = stmt.order_by(*(c.asc() if ascending else c.desc() for c in columns)).limit(size + 1)
    rows = [InboxRow(**row._mapping) for row in db.session.execute(stmt)]
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    if not rows:
        return InboxPage()
    has_next = more if not backwards else True
    has_previous = more if backwards else after_key is not None
    return InboxPage(
        rows=rows,
        next_cursor=encode_cursor(order, rows[-1]) if has_next else None,
        previous_cursor=encode_cursor(order, rows[0]) if has_previous else None,
    )


def status_counts(user: User, commune: Commune, criteria: InboxFilter) -> dict[SubmissionStatus, int]:
    """How many submissions of each status match ``criteria`` (its status filter aside).

    Each status is counted up to :data:`COUNT_LIMIT` + 1 (an index range of bounded length,
    however large the inbox); a count above the limit means "more than COUNT_LIMIT".
    """
    base = inbox_conditions(user, commune, criteria, with_status=False)
    per_status = []
    for status in SubmissionStatus:
        capped = (
            select(Submission.id).where(*base, Submission.status == status).limit(COUNT_LIMIT + 1).subquery()
        )
        per_status.append(
            select(literal(status.value).label("status"), func.count().label("n")).select_from(capped)
        )
    # One round trip: the five bounded counts as one UNION ALL.
    counts = dict.fromkeys(SubmissionStatus, 0)
    for status, count in db.session.execute(union_all(*per_status)):
        counts[SubmissionStatus(status)] = int(count)
    return counts


def find_submission(user: User, commune: Commune, reference: str) -> Submission | None:
    """The submission ``reference`` of ``commune`` if the user may see it; else ``None``."""
    if not reference or len(reference) > MAX_REFERENCE_LENGTH:
        return None
    return db.session.scalar(
        select(Submission).where(
            Submission.commune_id == commune.id,
            Submission.reference == reference,
            permissions.office_filter(user, commune, Submission.office_id),
        )
    )


def services_in_inbox(commune: Commune) -> list[tuple[str, str]]:
    """(slug, title) of the services the commune offers, for the service filter."""
    from app.catalogue.services import offered_services

    return sorted(
        {(offered.slug, offered.title) for offered in offered_services(commune)}, key=lambda item: item[1]
    )


def colleagues(user: User, commune: Commune) -> list[User]:
    """Active staff of the commune who work with at least one office ``user`` sees (assignee filter)."""
    offices = permissions.visible_offices(user, commune)
    candidates = db.session.scalars(
        select(User)
        .where(
            User.commune_id == commune.id,
            User.active.is_(True),
            User.role.in_((Role.CLERK, Role.COMMUNE_ADMIN)),
        )
        .options(selectinload(User.offices))
        .order_by(User.name, User.id)
    )
    return [person for person in candidates if any(permissions.may_see_office(person, o) for o in offices)]


def assignable_users(submission: Submission) -> list[User]:
    """The colleagues a submission may be assigned to: active staff who work with its office."""
    candidates = db.session.scalars(
        select(User)
        .where(
            User.commune_id == submission.commune_id,
            User.active.is_(True),
            User.role.in_((Role.CLERK, Role.COMMUNE_ADMIN)),
        )
        .options(selectinload(User.offices))
        .order_by(User.name, User.id)
    )
    return [user for user in candidates if permissions.may_see_office(user, submission.office)]


# --------------------------------------------------------------------------- workflow


class WorkflowError(Exception):
    """A change that was refused; ``str()`` is the message for the clerk (German source)."""


class StaleSubmission(WorkflowError):
    """Someone changed the submission after the clerk loaded it."""


def stale_message(submission_id: int) -> str:
    """The message for a clerk whose form is out of date, naming who changed it last."""
    name = db.session.scalar(
        select(SubmissionEvent.actor_name)
        .where(SubmissionEvent.submission_id == submission_id, SubmissionEvent.actor_name != "")
        .order_by(SubmissionEvent.id.desc())
        .limit(1)
    )
    return _(
        "Dieser Antrag wurde inzwischen von %(name)s geändert. Bitte prüfen Sie den aktuellen Stand.",
        name=name or _("einer anderen Person"),
    )


def allowed_targets(status: SubmissionStatus) -> tuple[SubmissionStatus, ...]:
    """The statuses a submission in ``status`` may move to."""
    return TRANSITIONS[status]


def _check_version(submission: Submission, expected_version: int | None) -> None:
    if expected_version is None or submission.version != expected_version:
        raise StaleSubmission(stale_message(submission.id))


@contextmanager
def _versioned(submission: Submission) -> Iterator[None]:
    """Change ``submission`` and flush; a concurrent writer's newer version raises StaleSubmission.

    Autoflush is held back until the end, so the UPDATE (and its version check) runs once,
    here, and not from whatever lazy load happens to come first.
    """
    submission_id = submission.id
    try:
        with db.session.no_autoflush:
            yield
        db.session.flush()
    except StaleDataError as exc:
        db.session.rollback()
        raise StaleSubmission(stale_message(submission_id)) from exc


def _clean_text(value: str) -> str:
    text = value.replace("\r\n", "\n").strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise WorkflowError(_("Der Text ist zu lang (höchstens %(count)d Zeichen).", count=MAX_TEXT_LENGTH))
    return text


def _actor(origin: Origin) -> tuple[int | None, str]:
    user = origin.user
    return (user.id, user.name) if user is not None else (None, "")


def _event(submission: Submission, kind: EventKind, origin: Origin, **values: Any) -> SubmissionEvent:
    actor_id, actor_name = _actor(origin)
    event = SubmissionEvent(
        kind=kind, actor_id=actor_id, actor_name=actor_name, created_at=utcnow(), **values
    )
    submission.events.append(event)
    return event


def _audit(action: AuditAction, submission: Submission, origin: Origin, **details: Any) -> None:
    record(
        action,
        origin=origin,
        commune_id=submission.commune_id,
        object_type="submission",
        object_id=submission.reference,
        details=details,
    )


def mail_citizen(submission: Submission, message: str) -> bool:
    """E-mail ``message`` to the submitter after the commit, in the submission's language.

    Returns whether a message was queued (not when the answers name no e-mail address).
    """
    if not submission.submitter_email:
        return False
    with force_locale(submission.locale):
        subject = _("Nachricht zu Ihrem Antrag %(reference)s", reference=submission.reference)
        # The environment, not render_template: the page context processors need a request.
        body = current_app.jinja_env.get_template("staff/inbox/mail/citizen_message.txt").render(
            submission=submission, commune=submission.commune, office=submission.office, message=message
        )
    send_after_commit(db.session, compose_mail(submission.submitter_email, subject, body))
    return True


def change_status(
    submission: Submission,
    target: SubmissionStatus,
    *,
    expected_version: int | None,
    message: str = "",
    origin: Origin,
) -> SubmissionEvent:
    """Move the submission to ``target`` if :data:`TRANSITIONS` allows it.

    ``message`` goes to the citizen (status page and e-mail); rejecting and waiting
    require one. Raises :class:`StaleSubmission` or :class:`WorkflowError`.
    """
    _check_version(submission, expected_version)
    current = submission.status
    if target not in TRANSITIONS[current]:
        raise WorkflowError(
            _(
                "Ein Antrag im Status „%(current)s“ kann nicht auf „%(target)s“ gesetzt werden.",
                current=status_label(current),
                target=status_label(target),
            )
        )
    text = _clean_text(message)
    if target in MESSAGE_REQUIRED and not text:
        raise WorkflowError(str(MESSAGE_REQUIRED[target]))
    now = utcnow()
    with _versioned(submission):
        submission.status = target
        submission.completed_at = now if target in FINAL_STATUSES else None
        event = _event(
            submission,
            EventKind.STATUS_CHANGED,
            origin,
            from_status=current,
            to_status=target,
            text=text,
            visible_to_citizen=bool(text),
        )
        _audit(AuditAction.SUBMISSION_STATUS_CHANGED, submission, origin, old=current.value, new=target.value)
        if text:
            mailed = mail_citizen(submission, text)
            _audit(AuditAction.SUBMISSION_MESSAGE_SENT, submission, origin, mailed=mailed)
    return event


def send_message(submission: Submission, message: str, *, origin: Origin) -> SubmissionEvent:
    """A message to the citizen without a status change (status page and e-mail)."""
    text = _clean_text(message)
    if not text:
        raise WorkflowError(_("Bitte schreiben Sie eine Nachricht."))
    event = _event(submission, EventKind.MESSAGE, origin, text=text, visible_to_citizen=True)
    mailed = mail_citizen(submission, text)
    _audit(AuditAction.SUBMISSION_MESSAGE_SENT, submission, origin, mailed=mailed)
    db.session.flush()
    return event


def assign(
    submission: Submission, assignee: User | None, *, expected_version: int | None, origin: Origin
) -> SubmissionEvent:
    """Give the submission to ``assignee`` (a colleague of its office), or to nobody."""
    _check_version(submission, expected_version)
    if assignee is not None and assignee.id not in {user.id for user in assignable_users(submission)}:
        raise WorkflowError(_("Diese Person kann Anträge dieses Fachamts nicht bearbeiten."))
    if assignee is None and submission.assignee_id is None:
        raise WorkflowError(_("Der Antrag ist niemandem zugewiesen."))
    if assignee is not None and submission.assignee_id == assignee.id:
        raise WorkflowError(_("Der Antrag ist dieser Person schon zugewiesen."))
    previous = submission.assignee_id
    text = (
        _("Zugewiesen an %(name)s", name=assignee.name) if assignee is not None else _("Zuweisung aufgehoben")
    )
    with _versioned(submission):
        submission.assignee_id = assignee.id if assignee is not None else None
        event = _event(submission, EventKind.ASSIGNED, origin, text=text)
        _audit(
            AuditAction.SUBMISSION_ASSIGNED,
            submission,
            origin,
            old=previous,
            new=assignee.id if assignee is not None else None,
        )
    return event


def add_note(submission: Submission, note: str, *, origin: Origin) -> SubmissionEvent:
    """An internal note (staff only). Notes only add, so they need no version."""
    text = _clean_text(note)
    if not text:
        raise WorkflowError(_("Bitte schreiben Sie eine Notiz."))
    event = _event(submission, EventKind.NOTE, origin, text=text)
    _audit(AuditAction.SUBMISSION_NOTE_ADDED, submission, origin)
    db.session.flush()
    return event


def retry(submission: Submission, delivery_id: int, *, origin: Origin) -> Delivery:
    """Put one of the submission's deliveries back in the queue; the caller commits and may
    then call :func:`app.delivery.services.attempt_after_commit`."""
    _actor_id, actor_name = _actor(origin)
    try:
        delivery = retry_delivery(
            delivery_id, actor_name or origin.email, submission_id=submission.id, session=db.session
        )
    except DeliveryNotRetryable as exc:
        raise WorkflowError(
            _("Diese Zustellung kann gerade nicht wiederholt werden (schon zugestellt oder in Arbeit).")
        ) from exc
    _event(
        submission,
        EventKind.NOTE,
        origin,
        text=_("Zustellung per %(channel)s erneut angestoßen", channel=delivery.channel.label),
    )
    _audit(
        AuditAction.DELIVERY_RETRIED, submission, origin, delivery=delivery.id, channel=delivery.channel.value
    )
    db.session.flush()
    return delivery
