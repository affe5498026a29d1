"""Exports: one submission as a ZIP, a filtered list of one service's submissions as CSV or XLSX.

The ZIP holds the stored PDF, ``data.json`` (the answers as stored), the attachments and
``metadata.json``, which lists every other file of the archive with its SHA-256 and size.

The list has the columns reference, submitted (Europe/Berlin), status, then one column per
form field in the form's order (the newest form version's fields first, then fields only
older versions asked). Compound answers are flattened: an address gives four columns,
files their names, several choices one cell joined with ", ". The CSV is what German Excel
opens by double-click: UTF-8 with BOM, ``;`` between cells, CRLF line ends. Cells that a
spreadsheet would take for a formula (``= + - @``, tab, carriage return) get a leading
apostrophe in both formats (CSV/formula injection).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import select

from app.extensions import db
from app.formspec import FieldSpec, FieldType, ServiceSpec
from app.formspec.answers import display_text
from app.staff.inbox.services import InboxFilter, inbox_conditions, status_label
from app.staff.models import User
from app.storage import blob_store
from app.submissions.models import FormDefinition, Submission
from app.submissions.status import clean_filename
from app.tenancy.models import Commune
from app.timeutil import to_berlin, utcnow

#: Characters that make a spreadsheet cell a formula (or inject one).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: The four parts of an address answer, in reading order.
ADDRESS_PARTS = ("street", "house_number", "postal_code", "town")
#: Rows read from the database at a time while exporting a list.
BATCH = 500


def json_bytes(value: object) -> bytes:
    """JSON as the portal stores and embeds it: UTF-8, indented, keys sorted."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def safe_cell(value: str) -> str:
    """``value`` with an apostrophe in front when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


# --------------------------------------------------------------------------- one submission


def archive_name(submission: Submission) -> str:
    return f"{submission.reference}.zip"


def submission_zip(submission: Submission) -> bytes:
    """The submission as a ZIP: PDF, data.json, attachments, metadata.json with hashes."""
    store = blob_store()
    files: list[tuple[str, bytes, str]] = []
    if submission.pdf_key is not None:
        files.append((f"{submission.reference}.pdf", store.read(submission.pdf_key), "application/pdf"))
    files.append(("data.json", json_bytes(submission.answers or {}), "application/json"))
    for index, attachment in enumerate(submission.attachments, start=1):
        if attachment.storage_key is None:
            continue
        name = f"anlagen/{index:02d}-{clean_filename(attachment.filename)}"
        files.append((name, store.read(attachment.storage_key), attachment.media_type))
    metadata = {
        "reference": submission.reference,
        "service": submission.service_slug,
        "service_title": submission.service_title,
        "form_version": submission.form_version,
        "status": submission.status.value,
        "submitted_at": submission.submitted_at.isoformat(),
        "exported_at": utcnow().isoformat(),
        "files": [
            {
                "name": name,
                "media_type": media_type,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            for name, data, media_type in files
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data, _media_type in files:
            archive.writestr(name, data)
        archive.writestr("metadata.json", json_bytes(metadata))
    return buffer.getvalue()


# --------------------------------------------------------------------------- lists


@dataclass(frozen=True)
class ExportColumn:
    """One column of a list export: a fixed column (``field`` None) or a form field (part)."""

    header: str
    key: str
    field: FieldSpec | None = None
    part: str | None = None


def _address_part_labels() -> dict[str, str]:
    return {
        "street": _("Straße"),
        "house_number": _("Hausnummer"),
        "postal_code": _("Postleitzahl"),
        "town": _("Ort"),
    }


def _form_fields(service: ServiceSpec) -> Iterator[FieldSpec]:
    if service.form is None:
        return
    for step in service.form.steps:
        for fieldset in step.fieldsets:
            for spec in fieldset.fields:
                if spec.takes_answer:
                    yield spec


def _definitions(user: User, commune: Commune, criteria: InboxFilter) -> list[ServiceSpec]:
    """The form versions the filtered submissions were filled against, newest first."""
    versions = select(Submission.form_version).where(*inbox_conditions(user, commune, criteria)).distinct()
    rows = db.session.scalars(
        select(FormDefinition)
        .where(FormDefinition.version.in_(versions))
        .order_by(FormDefinition.created_at.desc(), FormDefinition.version)
    )
    return [ServiceSpec.from_source(row.source) for row in rows]


def export_columns(services: Iterable[ServiceSpec]) -> list[ExportColumn]:
    """The columns of a list export of submissions filled against ``services`` (newest first)."""
    columns = [
        ExportColumn(_("Aktenzeichen"), "reference"),
        ExportColumn(_("Eingegangen"), "submitted_at"),
        ExportColumn(_("Status"), "status"),
    ]
    seen: set[str] = set()
    parts = _address_part_labels()
    for service in services:
        for spec in _form_fields(service):
            if spec.name in seen:
                continue
            seen.add(spec.name)
            label = _(spec.label)
            if spec.type is FieldType.ADDRESS:
                columns.extend(
                    ExportColumn(f"{label}: {parts[part]}", f"{spec.name}.{part}", spec, part)
                    for part in ADDRESS_PARTS
                )
            else:
                columns.append(ExportColumn(label, spec.name, spec))
    return columns


def _answer_text(column: ExportColumn, value: Any) -> str:
    spec = column.field
    assert spec is not None
    if value is None or value in ("", []):
        return ""
    if column.part is not None:
        return str(value.get(column.part, "")) if isinstance(value, dict) else ""
    if spec.type is FieldType.FILE:
        files = value if isinstance(value, list) else [value]
        return ", ".join(str(item.get("filename", "")) for item in files if isinstance(item, dict))
    if spec.type in (
        FieldType.CHECKBOX,
        FieldType.CONSENT,
        FieldType.SELECT,
        FieldType.RADIO,
        FieldType.MULTICHECKBOX,
    ):
        return display_text(spec, value, _)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _cell(column: ExportColumn, submission: Submission) -> str | datetime:
    if column.key == "reference":
        return submission.reference
    if column.key == "submitted_at":
        return to_berlin(submission.submitted_at).replace(tzinfo=None, microsecond=0)
    if column.key == "status":
        return status_label(submission.status)
    assert column.field is not None
    return _answer_text(column, (submission.answers or {}).get(column.field.name))


def _submissions(user: User, commune: Commune, criteria: InboxFilter) -> Iterator[Submission]:
    stmt = (
        select(Submission)
        .where(*inbox_conditions(user, commune, criteria))
        .order_by(Submission.submitted_at, Submission.id)
        .execution_options(yield_per=BATCH)
    )
    yield from db.session.scalars(stmt)


@dataclass
class ListExport:
    """The columns and the submissions of one list export (read lazily)."""

    columns: list[ExportColumn]
    submissions: Iterable[Submission]

    def rows(self) -> Iterator[list[str | datetime]]:
        for submission in self.submissions:
            yield [_cell(column, submission) for column in self.columns]


def list_export(user: User, commune: Commune, criteria: InboxFilter) -> ListExport:
    """The export of the inbox list under ``criteria`` (which should name one service)."""
    columns = export_columns(_definitions(user, commune, criteria))
    return ListExport(columns=columns, submissions=_submissions(user, commune, criteria))


def _csv_text(value: str | datetime) -> str:
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    return safe_cell(value)


def csv_chunks(export: ListExport) -> Iterator[bytes]:
    """The CSV for German Excel, in chunks to stream: BOM, ``;``, CRLF, formulas defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)

    def take() -> bytes:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode("utf-8")

    buffer.write("\ufeff")
    writer.writerow([safe_cell(column.header) for column in export.columns])
    yield take()
    for count, row in enumerate(export.rows(), start=1):
        writer.writerow([_csv_text(value) for value in row])
        if count % BATCH == 0:
            yield take()
    rest = take()
    if rest:
        yield rest


def xlsx_bytes(export: ListExport, title: str) -> bytes:
    """The list as an Excel workbook (openpyxl, write-only), one sheet, formulas defused."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    sheet.append([safe_cell(column.header) for column in export.columns])
    for row in export.rows():
        cells: list[Any] = []
        for value in row:
            if isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "DD.MM.YYYY HH:MM"
                cells.append(cell)
            else:
                cell = WriteOnlyCell(sheet, value=safe_cell(value))
                cell.data_type = "s"
                cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str) -> str:
    # Excel forbids these characters in sheet names and allows at most 31 of them.
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()
    return cleaned[:31] or "Anträge"
