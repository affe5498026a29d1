"""File inspection (Akteneinsicht): granting, finding, revoking and logging a download page.

The applicant's link carries ``secrets.token_urlsafe(32)``; the database keeps its SHA-256
only, so neither a database dump nor the audit log opens a page. Looking a grant up takes
the commune too: a token shown under another commune's URL finds nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.delivery.mail import compose_mail
from app.efile.models import DocumentSource, InspectionAccess, InspectionDocument, InspectionGrant
from app.extensions import db
from app.staff.audit import Origin, record
from app.staff.models import AuditAction
from app.storage import blob_store
from app.submissions.drafts import release_blobs
from app.submissions.models import Submission
from app.submissions.services import clean_filename
from app.tenancy.models import Commune
from app.timeformat import format_deadline
from app.timeutil import utcnow

#: Bytes of randomness in a token (``secrets.token_urlsafe`` gives 43 characters).
TOKEN_BYTES = 32
#: How long a grant may run, in days.
MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 90, 14
#: A token is URL-safe base64: anything else is not worth a database look-up.
TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
MAX_TOKEN_LENGTH = 100
#: Days an ended (expired or revoked) grant and its access log are kept before they, and the
#: files uploaded only for them, are deleted by :func:`purge_ended_grants`.
KEEP_ENDED_DAYS = 90


class GrantRefused(Exception):
    """A grant cannot be made as asked; the message says why, in plain words."""


@dataclass(frozen=True)
class Upload:
    """A file the clerk uploads for the inspection."""

    filename: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class DocumentChoice:
    """A file of the submission the clerk may grant: its key in the form, name, type and size."""

    key: str
    filename: str
    media_type: str
    size: int


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256, hexadecimal."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def document_choices(submission: Submission) -> list[DocumentChoice]:
    """The submission's stored files a grant may include: the PDF, then the attachments."""
    choices: list[DocumentChoice] = []
    if submission.pdf_key is not None:
        choices.append(
            DocumentChoice("pdf", f"{submission.reference}.pdf", "application/pdf", submission.pdf_size or 0)
        )
    choices.extend(
        DocumentChoice(f"attachment-{a.id}", clean_filename(a.filename), a.media_type, a.size)
        for a in submission.attachments
        if a.storage_key is not None
    )
    return choices


def _chosen_documents(submission: Submission, keys: Sequence[str]) -> list[InspectionDocument]:
    documents: list[InspectionDocument] = []
    wanted = set(keys)
    if "pdf" in wanted and submission.pdf_key is not None:
        documents.append(
            InspectionDocument(
                source=DocumentSource.PDF,
                submission_id=submission.id,
                filename=f"{submission.reference}.pdf",
                media_type="application/pdf",
                size=submission.pdf_size or 0,
                sha256=submission.pdf_sha256 or "",
                storage_key=submission.pdf_key,
            )
        )
    for attachment in submission.attachments:
        if f"attachment-{attachment.id}" in wanted and attachment.storage_key is not None:
            documents.append(
                InspectionDocument(
                    source=DocumentSource.ATTACHMENT,
                    submission_id=submission.id,
                    filename=clean_filename(attachment.filename),
                    media_type=attachment.media_type,
                    size=attachment.size,
                    sha256=attachment.sha256,
                    storage_key=attachment.storage_key,
                )
            )
    return documents


def create_grant(
    submission: Submission,
    *,
    recipient: str,
    days: int,
    document_keys: Sequence[str],
    uploads: Sequence[Upload] = (),
    message: str = "",
    origin: Origin,
    now: datetime | None = None,
) -> tuple[InspectionGrant, str]:
    """Grant ``recipient`` the chosen documents for ``days`` days; returns the grant and its token.

    The grant, its uploaded files and the audit entry join the current transaction; the
    caller commits (and sends :func:`grant_mail` after the commit). Raises
    :class:`GrantRefused` when nothing is chosen or the period is out of range.
    """
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise GrantRefused(
            _("Die Frist muss zwischen %(low)d und %(high)d Tagen liegen.", low=MIN_DAYS, high=MAX_DAYS)
        )
    documents = _chosen_documents(submission, document_keys)
    store = blob_store()
    for upload in uploads:
        stored = store.put(upload.data, session=db.session)
        documents.append(
            InspectionDocument(
                source=DocumentSource.UPLOAD,
                submission_id=None,
                filename=clean_filename(upload.filename),
                media_type=upload.media_type or "application/octet-stream",
                size=stored.size,
                sha256=stored.sha256,
                storage_key=stored.key,
            )
        )
    if not documents:
        raise GrantRefused(_("Bitte wählen Sie mindestens ein Dokument aus oder laden Sie eines hoch."))
    for position, document in enumerate(documents):
        document.position = position
    token = secrets.token_urlsafe(TOKEN_BYTES)
    moment = now or utcnow()
    user = origin.user
    grant = InspectionGrant(
        commune_id=submission.commune_id,
        submission_id=submission.id,
        token_hash=hash_token(token),
        recipient_email=recipient,
        message=message,
        created_at=moment,
        created_by_id=user.id if user is not None else None,
        created_by_name=user.name if user is not None else "",
        expires_at=moment + timedelta(days=days),
        documents=documents,
    )
    db.session.add(grant)
    db.session.flush()
    record(
        AuditAction.INSPECTION_GRANTED,
        origin=origin,
        commune_id=submission.commune_id,
        object_type="submission",
        object_id=submission.reference,
        details={
            "grant": grant.id,
            "expires_at": grant.expires_at.isoformat(),
            "documents": [document.filename for document in documents],
        },
    )
    return grant, token


def revoke_grant(grant: InspectionGrant, *, origin: Origin, now: datetime | None = None) -> bool:
    """End the grant now; False if it was revoked already (nothing changes then)."""
    if grant.revoked_at is not None:
        return False
    grant.revoked_at = now or utcnow()
    grant.revoked_by_name = origin.user.name if origin.user is not None else ""
    record(
        AuditAction.INSPECTION_REVOKED,
        origin=origin,
        commune_id=grant.commune_id,
        object_type="submission",
        object_id=grant.submission.reference,
        details={"grant": grant.id},
    )
    return True


def grants_of(submission: Submission) -> list[InspectionGrant]:
    """The grants made for the submission, newest first."""
    return list(
        db.session.scalars(
            select(InspectionGrant)
            .where(InspectionGrant.submission_id == submission.id)
            .order_by(InspectionGrant.created_at.desc(), InspectionGrant.id.desc())
        )
    )


def grant_of(submission: Submission, grant_id: int) -> InspectionGrant | None:
    """The grant ``grant_id`` if it belongs to ``submission``."""
    return db.session.scalar(
        select(InspectionGrant).where(
            InspectionGrant.id == grant_id, InspectionGrant.submission_id == submission.id
        )
    )


def find_grant(commune: Commune, token: str) -> InspectionGrant | None:
    """The grant of ``commune`` whose token is ``token`` (expired and revoked ones included)."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not set(token) <= TOKEN_ALPHABET:
        return None
    return db.session.scalar(
        select(InspectionGrant).where(
            InspectionGrant.commune_id == commune.id, InspectionGrant.token_hash == hash_token(token)
        )
    )


def log_access(
    grant: InspectionGrant,
    document: InspectionDocument | None,
    *,
    client_address: str,
    user_agent: str,
) -> InspectionAccess:
    """Record one use of the link (the page, or one document) in the current transaction."""
    access = InspectionAccess(
        grant_id=grant.id,
        document_id=document.id if document is not None else None,
        accessed_at=utcnow(),
        client_address=client_address[:45],
        user_agent=user_agent[:200],
    )
    db.session.add(access)
    return access


def grant_mail(grant: InspectionGrant, link: str) -> EmailMessage:
    """The e-mail that gives the applicant the link (plain text, in the language the
    applicant filled the form in, whichever language the clerk's screen shows)."""
    commune = grant.commune
    with force_locale(grant.submission.locale):
        lines = [
            _("Guten Tag,"),
            "",
            _(
                "%(commune)s gewährt Ihnen Einsicht in Unterlagen zu Ihrem Antrag %(reference)s.",
                commune=commune.official_name or commune.name,
                reference=grant.submission.reference,
            ),
            "",
            _(
                "Sie können die Dokumente bis %(expires)s hier herunterladen:",
                expires=format_deadline(grant.expires_at),
            ),
            link,
            "",
        ]
        if grant.message:
            lines += [grant.message, ""]
        lines += [
            _("Der Link ist persönlich: Geben Sie ihn bitte nicht weiter. Jeder Abruf wird protokolliert."),
            "",
            _("Mit freundlichen Grüßen"),
            commune.official_name or commune.name,
        ]
        subject = _("Akteneinsicht zu Ihrem Antrag %(reference)s", reference=grant.submission.reference)
    return compose_mail(grant.recipient_email, subject, "\n".join(lines))


@dataclass(frozen=True)
class PurgeReport:
    """What :func:`purge_ended_grants` deleted."""

    grants: int
    files: int


def purge_ended_grants(now: datetime | None = None, keep_days: int = KEEP_ENDED_DAYS) -> PurgeReport:
    """Delete grants that ended more than ``keep_days`` ago, their access logs and orphaned files.

    Commits. A granted document keeps its file from being deleted by the submission
    retention run while the grant exists (the blob store counts every ``storage_key``
    column), so ended grants must go for the files to go. Files are released after the
    commit; the audit log keeps the grant and revocation entries.
    """
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    grants = list(
        db.session.scalars(
            select(InspectionGrant).where(
                or_(InspectionGrant.expires_at <= cutoff, InspectionGrant.revoked_at <= cutoff)
            )
        )
    )
    keys = {document.storage_key for grant in grants for document in grant.documents}
    for grant in grants:
        db.session.delete(grant)
    db.session.commit()
    return PurgeReport(grants=len(grants), files=release_blobs(keys))
