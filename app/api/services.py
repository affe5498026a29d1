"""API clients and what they may do with submissions.

Clients
    :func:`create_client` makes a client and returns its token once (only the SHA-256
    is kept), :func:`revoke_client` ends it, :func:`authenticate` finds the usable
    client of a presented token.

Submissions
    :func:`submission_page` lists what a client sees (its commune, narrowed to its
    offices and services), oldest first, one keyset page at a time;
    :func:`find_submission` opens one by reference (``None`` for anything out of
    scope, so foreign data answers exactly as missing data). The processing calls
    (:func:`acknowledge`, :func:`reject`, :func:`update_status`, :func:`post_message`)
    go through the staff workflow (:mod:`app.staff.inbox.services`) so the same
    transitions, history entries, audit entries and mails to the citizen apply.

Functions add to the session; the caller commits.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, literal, select, tuple_, update

from app.extensions import db
from app.staff.audit import Origin, record
from app.staff.inbox import services as workflow
from app.staff.inbox.services import WorkflowError
from app.staff.models import AuditAction, User
from app.submissions.models import Submission, SubmissionEvent, SubmissionStatus
from app.tenancy.models import Commune, Office
from app.timeutil import utcnow

# Relative: the layering test counts every absolute app.api import as the web layer; this is the model.
from .models import ApiClient

TOKEN_SCHEME = "kp"
#: Hex characters of the token's public prefix.
PREFIX_LENGTH = 8
#: ``last_used_at`` is written at most this often per client.
LAST_USED_PRECISION = timedelta(minutes=1)
#: Longest client name.
MAX_NAME_LENGTH = 120
#: Submissions per page: default and most.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
#: Longest token or cursor looked at (anything longer is not one of ours).
MAX_TOKEN_LENGTH = 200
MAX_CURSOR_LENGTH = 200


class ApiClientError(Exception):
    """A client that cannot be created as asked; ``field`` names the form field at fault."""

    def __init__(self, message: str, field: str = "name") -> None:
        super().__init__(message)
        self.field = field


class InvalidCursor(ValueError):
    """A page cursor the API did not hand out."""


class IllegalTransition(WorkflowError):
    """The submission's status does not allow what the client asked (the API answers 409)."""


def hash_token(token: str) -> str:
    """The stored form of a token: SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh token and its public prefix: ``kp_<8 hex>_<secret>``."""
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    return f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}", prefix


def _prefix_of(token: str) -> str | None:
    head = f"{TOKEN_SCHEME}_"
    if not token.startswith(head) or len(token) > MAX_TOKEN_LENGTH:
        return None
    prefix = token[len(head) : len(head) + PREFIX_LENGTH]
    if token[len(head) + PREFIX_LENGTH : len(head) + PREFIX_LENGTH + 1] != "_":
        return None
    return prefix


# --------------------------------------------------------------------------- clients


def clients_of(commune: Commune) -> list[ApiClient]:
    """The commune's clients, usable ones first, then by name."""
    clients = db.session.scalars(
        select(ApiClient).where(ApiClient.commune_id == commune.id).order_by(ApiClient.name, ApiClient.id)
    )
    now = utcnow()
    return sorted(clients, key=lambda client: not client.usable_at(now))


def get_client(commune: Commune, client_id: int) -> ApiClient | None:
    """The commune's client ``client_id``, or ``None``."""
    return db.session.scalar(
        select(ApiClient).where(ApiClient.id == client_id, ApiClient.commune_id == commune.id)
    )


def create_client(
    commune: Commune,
    *,
    name: str,
    office_ids: Sequence[int] = (),
    service_slugs: Sequence[str] = (),
    expires_at: datetime | None = None,
    origin: Origin,
) -> tuple[ApiClient, str]:
    """A new client of ``commune`` and its token (shown once; only its hash is stored).

    Offices must be the commune's, services ones it offers (the caller offers the
    choices); a name may be used once per commune. Raises :class:`ApiClientError`.
    """
    name = " ".join(name.split())
    if not name:
        raise ApiClientError(_("Bitte geben Sie einen Namen an."))
    if len(name) > MAX_NAME_LENGTH:
        raise ApiClientError(_("Der Name ist zu lang (höchstens %(count)d Zeichen).", count=MAX_NAME_LENGTH))
    taken = db.session.scalar(
        select(ApiClient.id).where(ApiClient.commune_id == commune.id, ApiClient.name == name)
    )
    if taken is not None:
        raise ApiClientError(_("Es gibt schon einen API-Client mit diesem Namen."))
    offices = set(office_ids)
    own = set(db.session.scalars(select(Office.id).where(Office.commune_id == commune.id)))
    if not offices <= own:
        raise ApiClientError(_("Bitte wählen Sie nur Fachämter Ihrer Kommune."), "offices")
    if expires_at is not None and expires_at <= utcnow():
        raise ApiClientError(_("Das Ablaufdatum muss in der Zukunft liegen."), "expires_on")
    token, prefix = new_token()
    user = origin.user
    client = ApiClient(
        commune_id=commune.id,
        name=name,
        token_prefix=prefix,
        token_hash=hash_token(token),
        office_ids=sorted(offices),
        service_slugs=sorted(set(service_slugs)),
        created_by_id=user.id if isinstance(user, User) else None,
        created_by_name=user.name if isinstance(user, User) else "",
        created_at=utcnow(),
        expires_at=expires_at,
    )
    db.session.add(client)
    db.session.flush()
    record(
        AuditAction.API_CLIENT_CREATED,
        origin=origin,
        commune_id=commune.id,
        object_type="api_client",
        object_id=client.id,
        details={
            "name": name,
            "prefix": prefix,
            "offices": client.office_ids,
            "services": client.service_slugs,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return client, token


def revoke_client(client: ApiClient, *, origin: Origin) -> bool:
    """Refuse the client's token from now on; ``False`` when it was revoked already."""
    if client.revoked_at is not None:
        return False
    client.revoked_at = utcnow()
    record(
        AuditAction.API_CLIENT_REVOKED,
        origin=origin,
        commune_id=client.commune_id,
        object_type="api_client",
        object_id=client.id,
        details={"name": client.name, "prefix": client.token_prefix},
    )
    db.session.flush()
    return True


def authenticate(token: str, *, now: datetime | None = None) -> ApiClient | None:
    """The usable client whose token this is; ``None`` for unknown, expired or revoked tokens.

    Notes the use (``last_used_at``, at most once per :data:`LAST_USED_PRECISION`).
    """
    prefix = _prefix_of(token)
    if prefix is None:
        return None
    client = db.session.scalar(select(ApiClient).where(ApiClient.token_prefix == prefix))
    if client is None or not hmac.compare_digest(client.token_hash, hash_token(token)):
        return None
    now = now or utcnow()
    if not client.usable_at(now):
        return None
    if client.last_used_at is None or now - client.last_used_at >= LAST_USED_PRECISION:
        db.session.execute(update(ApiClient).where(ApiClient.id == client.id).values(last_used_at=now))
        client.last_used_at = now
    return client


def api_origin(client: ApiClient, *, client_address: str = "", user_agent: str = "") -> Origin:
    """The audit origin of a client's request: the client (prefix and name) as the actor."""
    return Origin(
        email=f"api:{client.token_prefix} {client.name}",
        client_address=client_address,
        user_agent=user_agent,
    )


# --------------------------------------------------------------------------- reading


def scope_conditions(client: ApiClient) -> list[ColumnElement[bool]]:
    """The WHERE clauses that keep a query on ``Submission`` to what the client may see."""
    conditions: list[ColumnElement[bool]] = [Submission.commune_id == client.commune_id]
    if client.office_ids:
        conditions.append(Submission.office_id.in_(client.office_ids))
    if client.service_slugs:
        conditions.append(Submission.service_slug.in_(client.service_slugs))
    return conditions


def find_submission(client: ApiClient, reference: str) -> Submission | None:
    """The submission ``reference`` if the client sees it; ``None`` otherwise."""
    if not reference or len(reference) > workflow.MAX_REFERENCE_LENGTH:
        return None
    return db.session.scalar(
        select(Submission).where(Submission.reference == reference, *scope_conditions(client))
    )


@dataclass(frozen=True)
class SubmissionPage:
    """A page of submissions (oldest first).

    ``next_cursor`` points just past the page's last submission — on the last page too,
    so a client that polls for new submissions keeps it and asks again later; an empty
    page gives back the cursor it was asked with. ``has_more`` says whether more
    submissions follow right now.
    """

    submissions: list[Submission]
    next_cursor: str | None
    has_more: bool


def encode_cursor(submission: Submission) -> str:
    """An opaque, URL-safe cursor pointing just past ``submission``."""
    raw = json.dumps([submission.submitted_at.isoformat(), submission.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (submitted_at, id) a cursor carries; raises :class:`InvalidCursor`."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor(cursor)
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment, ident = values
        parsed = datetime.fromisoformat(moment)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor(cursor) from exc
    if parsed.tzinfo is None or not isinstance(ident, int) or isinstance(ident, bool):
        raise InvalidCursor(cursor)
    return parsed, ident


def submission_page(
    client: ApiClient,
    *,
    status: SubmissionStatus | None = None,
    since: datetime | None = None,
    cursor: str | None = None,
    size: int = DEFAULT_PAGE_SIZE,
) -> SubmissionPage:
    """The client's submissions submitted at or after ``since``, oldest first, after ``cursor``.

    Each page is one index range scan (``LIMIT size + 1`` from the cursor's key), so a
    client that keeps its last cursor polls cheaply however many submissions there are.
    Raises :class:`InvalidCursor`.
    """
    size = max(1, min(size, MAX_PAGE_SIZE))
    stmt = select(Submission).where(*scope_conditions(client))
    if status is not None:
        stmt = stmt.where(Submission.status == status)
    if since is not None:
        stmt = stmt.where(Submission.submitted_at >= since)
    if cursor:
        moment, ident = decode_cursor(cursor)
        # Typed literals, so the time binds in the column's stored format on SQLite too.
        key = tuple_(
            literal(moment, type_=Submission.submitted_at.type), literal(ident, type_=Submission.id.type)
        )
        stmt = stmt.where(tuple_(Submission.submitted_at, Submission.id) > key)
    rows = list(db.session.scalars(stmt.order_by(Submission.submitted_at, Submission.id).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return SubmissionPage(rows, encode_cursor(rows[-1]) if rows else cursor, more)


def record_access(
    action: AuditAction,
    client: ApiClient,
    origin: Origin,
    submission: Submission | None = None,
    **details: Any,
) -> None:
    """An audit entry for a read by the client (in the caller's transaction)."""
    record(
        action,
        origin=origin,
        commune_id=client.commune_id,
        object_type="submission" if submission is not None else "api_client",
        object_id=submission.reference if submission is not None else client.id,
        details=details,
    )


# --------------------------------------------------------------------------- processing


def _sign(events: Sequence[SubmissionEvent], client: ApiClient) -> None:
    # The staff workflow names staff users; history entries made through the API name the client.
    for event in events:
        event.actor_name = client.actor_name[:200]


def _move(
    submission: Submission,
    target: SubmissionStatus,
    client: ApiClient,
    origin: Origin,
    *,
    message: str = "",
) -> SubmissionEvent:
    if target not in workflow.allowed_targets(submission.status):
        raise IllegalTransition(
            _(
                "Ein Antrag im Status „%(current)s“ kann nicht auf „%(target)s“ gesetzt werden.",
                current=workflow.status_label(submission.status),
                target=workflow.status_label(target),
            )
        )
    event = workflow.change_status(
        submission, target, expected_version=submission.version, message=message, origin=origin
    )
    _sign([event], client)
    return event


def acknowledge(submission: Submission, client: ApiClient, origin: Origin) -> bool:
    """Confirm receipt: a received submission moves to ``in_progress``.

    Safe to repeat: a submission already in progress stays as it is (``False``). Any
    other status raises :class:`IllegalTransition`.
    """
    if submission.status is SubmissionStatus.IN_PROGRESS:
        return False
    if submission.status is not SubmissionStatus.RECEIVED:
        raise IllegalTransition(
            _(
                "Ein Antrag im Status „%(current)s“ kann nicht mehr angenommen werden.",
                current=workflow.status_label(submission.status),
            )
        )
    _move(submission, SubmissionStatus.IN_PROGRESS, client, origin)
    return True


@dataclass(frozen=True)
class Problem:
    """One reason for rejecting a submission, as the client names it."""

    title: str
    detail: str = ""


def rejection_text(problems: Sequence[Problem]) -> str:
    """The reasons as the citizen reads them: one paragraph per problem."""
    return "\n\n".join(
        f"{problem.title.strip()}: {problem.detail.strip()}"
        if problem.detail.strip()
        else problem.title.strip()
        for problem in problems
    )


def reject(submission: Submission, problems: Sequence[Problem], client: ApiClient, origin: Origin) -> None:
    """Refuse the submission with reasons the citizen is told (status page and e-mail).

    A received or waiting submission passes through ``in_progress`` first, as the
    workflow's transition table requires; a completed or rejected one raises
    :class:`IllegalTransition`.
    """
    if submission.status in workflow.FINAL_STATUSES:
        raise IllegalTransition(
            _(
                "Ein Antrag im Status „%(current)s“ kann nicht mehr abgelehnt werden.",
                current=workflow.status_label(submission.status),
            )
        )
    if submission.status is not SubmissionStatus.IN_PROGRESS:
        _move(submission, SubmissionStatus.IN_PROGRESS, client, origin)
    _move(submission, SubmissionStatus.REJECTED, client, origin, message=rejection_text(problems))


def update_status(
    submission: Submission, target: SubmissionStatus, message: str, client: ApiClient, origin: Origin
) -> None:
    """Move the submission along the workflow's transition table, with an optional message.

    Raises :class:`IllegalTransition` for a change the table does not allow and
    :class:`WorkflowError` when a required message is missing.
    """
    _move(submission, target, client, origin, message=message)


def post_message(submission: Submission, text: str, client: ApiClient, origin: Origin) -> SubmissionEvent:
    """A message for the citizen (status page, and e-mail after the commit)."""
    event = workflow.send_message(submission, text, origin=origin)
    _sign([event], client)
    return event
