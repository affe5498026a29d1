"""xdomea hand-over packages: the submissions' files and the message describing them, as one ZIP.

Naming follows xdomea's transport convention: the package is
``<ProzessID>_Abgabe.Abgabe.0401.zip`` and holds, flat at its root, the message
``<ProzessID>_Abgabe.Abgabe.0401.xml`` and every primary document under exactly the name
the message gives in ``Primaerdokument/Dateiname``. The schema requires that name to start
with a UUID (``stringDateinameType``); the portal uses the document's own UUID, an
underscore and the original name made ASCII-safe (``3f…_Ausweis.pdf``), so names are unique
within the package however the citizen named the files, and still readable.

Per submission the package holds the application PDF, ``data.json`` (the answers as stored)
and every stored attachment. A submission whose PDF is not rendered yet is refused: a file
handed to the document management system must be complete, and a later export would give
it a second, different hand-over.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as distribution_version
from uuid import UUID, uuid4

from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from app.efile import validation
from app.efile.xdomea import (
    Handover,
    Party,
    PrimaryDocument,
    Record,
    build_message,
    message_file_name,
    package_file_name,
)
from app.staff.inbox.exports import json_bytes
from app.storage import blob_store
from app.submissions.models import Submission
from app.submissions.services import clean_filename
from app.tenancy.models import Commune
from app.timeutil import to_berlin, utcnow

#: The most submissions one package may hold (the ZIP is built in memory).
MAX_SUBMISSIONS = 100
#: ``DateinameOriginal`` of each submission's data file.
DATA_FILE = "data.json"


class ExportRefused(Exception):
    """The submissions cannot be exported as they are; ``references`` names the ones at fault."""

    def __init__(self, reason: str, references: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.references = list(references)


@dataclass(frozen=True)
class PackageFile:
    """A primary document as it is stored in the ZIP."""

    name: str
    data: bytes
    media_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class XdomeaPackage:
    """A built hand-over: its process id, the validated message and the primary documents."""

    process_id: UUID
    message: bytes
    files: Sequence[PackageFile]
    references: Sequence[str]

    @property
    def file_name(self) -> str:
        return package_file_name(self.process_id)

    @property
    def message_name(self) -> str:
        return message_file_name(self.process_id)

    def zip_bytes(self) -> bytes:
        """The package as a ZIP: the message first, then the primary documents."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(self.message_name, self.message)
            for item in self.files:
                archive.writestr(item.name, item.data)
        return buffer.getvalue()


def _product_version() -> str:
    try:
        return distribution_version("kommunalportal")
    except PackageNotFoundError:
        return ""


def package_name_part(original: str, fallback: str) -> str:
    """The readable part of a file name in the package: ASCII letters, digits, ``._-``."""
    return secure_filename(clean_filename(original)) or fallback


def _pdf_version(data: bytes) -> str:
    header = data[:16]
    if header.startswith(b"%PDF-"):
        return header[5:8].decode("ascii", "replace")
    return ""


def _document(
    files: list[PackageFile],
    submission: Submission,
    *,
    title: str,
    kind: str,
    original: str,
    data: bytes,
    media_type: str,
    format_version: str = "",
) -> PrimaryDocument:
    document_id = uuid4()
    extension = original.rpartition(".")[2] if "." in original else "bin"
    name = f"{document_id}_{package_name_part(original, f'datei.{extension}')}"
    item = PackageFile(name=name, data=data, media_type=media_type)
    files.append(item)
    return PrimaryDocument(
        id=document_id,
        title=title,
        kind=kind,
        file_name=name,
        original_name=clean_filename(original),
        media_type=media_type,
        sha256=item.sha256,
        size=len(data),
        created_at=submission.submitted_at,
        received_on=to_berlin(submission.submitted_at).date(),
        format_version=format_version,
    )


def _stored(submission: Submission, key: str, sha256: str | None) -> bytes:
    """A stored file of the submission, checked against its recorded SHA-256.

    A missing or changed file is refused rather than handed over: the document management
    system would keep it as the record.
    """
    store = blob_store()
    data = store.read(key) if store.exists(key) else None
    if data is None or (sha256 and hashlib.sha256(data).hexdigest() != sha256):
        raise ExportRefused(
            _(
                "Eine Datei des Antrags fehlt im Speicher oder ist beschädigt; "
                "bitte wenden Sie sich an den Betrieb."
            ),
            [submission.reference],
        )
    return data


def _record(submission: Submission, files: list[PackageFile]) -> Record:
    assert submission.pdf_key is not None
    subject = f"{submission.service_title} – {submission.reference}"
    pdf = _stored(submission, submission.pdf_key, submission.pdf_sha256)
    documents = [
        _document(
            files,
            submission,
            title=f"Antrag {submission.reference}",
            kind="Antrag",
            original=f"{submission.reference}.pdf",
            data=pdf,
            media_type="application/pdf",
            format_version=_pdf_version(pdf),
        ),
        _document(
            files,
            submission,
            title=f"Antragsdaten {submission.reference} (maschinenlesbar)",
            kind="Antragsdaten",
            original=DATA_FILE,
            data=json_bytes(submission.answers or {}),
            media_type="application/json",
        ),
    ]
    for attachment in submission.attachments:
        if attachment.storage_key is None:
            continue
        documents.append(
            _document(
                files,
                submission,
                title=f"Anlage: {clean_filename(attachment.filename)}",
                kind="Anlage",
                original=attachment.filename,
                data=_stored(submission, attachment.storage_key, attachment.sha256),
                media_type=attachment.media_type,
            )
        )
    return Record(
        file_id=uuid4(),
        case_id=uuid4(),
        subject=subject,
        reference=submission.reference,
        received_on=to_berlin(submission.submitted_at).date(),
        documents=documents,
        remark=f"Online-Antrag über das Kommunalportal, Leistung {submission.service_slug}",
    )


def _sender(commune: Commune, submissions: Sequence[Submission]) -> Party:
    offices = {submission.office_id: submission.office for submission in submissions}
    office = next(iter(offices.values())) if len(offices) == 1 else None
    return Party(
        institution=commune.official_name or commune.name,
        short_name=commune.short_code,
        unit=office.name if office is not None else "",
        street=commune.street,
        postal_code=commune.postal_code,
        town=commune.town,
        email=(office.email if office is not None and office.email else commune.email),
    )


def _receiver(commune: Commune) -> Party:
    return Party(
        institution=commune.official_name or commune.name,
        short_name=commune.short_code,
        responsibility="Dokumentenmanagement (E-Akte)",
    )


def build_package(
    commune: Commune,
    submissions: Sequence[Submission],
    *,
    instance: str = "",
    now: datetime | None = None,
) -> XdomeaPackage:
    """The xdomea package of ``submissions`` (all of ``commune``), its message validated.

    Raises :class:`ExportRefused` for an empty or too large selection and for submissions
    without a rendered PDF (before reading any file), and for a stored file that is missing
    or no longer matches its recorded SHA-256.
    """
    if not submissions:
        raise ExportRefused(_("Es ist kein Antrag ausgewählt."))
    if len(submissions) > MAX_SUBMISSIONS:
        raise ExportRefused(
            _("Es können höchstens %(count)d Anträge auf einmal exportiert werden.", count=MAX_SUBMISSIONS)
        )
    if any(submission.commune_id != commune.id for submission in submissions):
        raise ExportRefused(_("Die Anträge gehören nicht alle zu dieser Kommune."))
    without_pdf = [submission.reference for submission in submissions if submission.pdf_key is None]
    if without_pdf:
        raise ExportRefused(
            _("Für diese Anträge ist das PDF noch nicht erzeugt; sie können erst danach exportiert werden."),
            without_pdf,
        )
    files: list[PackageFile] = []
    records = [_record(submission, files) for submission in submissions]
    process_id = uuid4()
    handover = Handover(
        process_id=process_id,
        created_at=now or utcnow(),
        sender=_sender(commune, submissions),
        receiver=_receiver(commune),
        records=records,
        product_version=_product_version(),
        instance=instance,
    )
    message = build_message(handover)
    validation.validate(message)
    return XdomeaPackage(
        process_id=process_id,
        message=message,
        files=files,
        references=[submission.reference for submission in submissions],
    )
