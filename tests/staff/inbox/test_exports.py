"""Exports: one submission as a ZIP with hashes; a service's list as CSV for German Excel and XLSX."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from submission_builders import (
    FAKE_PDF,
    INBOX_FORM_YAML,
    Place,
    inbox_answers,
    inbox_service,
    make_submission,
    with_file,
)

from app.extensions import db
from app.formspec import ServiceSpec
from app.staff.inbox.exports import safe_cell
from app.staff.models import AuditAction, AuditEntry, Role, User
from app.submissions.models import SubmissionStatus
from staff.builders import log_in, make_user

HEADER = [
    "Aktenzeichen",
    "Eingegangen",
    "Status",
    "Vor- und Nachname",
    "E-Mail-Adresse",
    "Anschrift: Straße",
    "Anschrift: Hausnummer",
    "Anschrift: Postleitzahl",
    "Anschrift: Ort",
    "Anzahl der Hunde",
    "Fellfarben",
    "Bemerkung",
    "Nachweis",
    "Ich habe die Datenschutzhinweise gelesen.",
]


@pytest.fixture
def clerk(place: Place) -> User:
    return make_user(Role.CLERK, commune=place.commune, offices=[place.office])


def _audit(action: AuditAction) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_zip_holds_pdf_data_attachments_and_metadata_with_every_sha256(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    submission = make_submission(
        service,
        place.commune,
        place.office,
        with_file(inbox_answers(), b"%PDF-1.4 nachweis", "../../Ausweis.pdf"),
    )
    log_in(client, clerk)
    response = client.get(f"/staff/{place.commune.slug}/submissions/{submission.reference}/export.zip")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{submission.reference}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert names == [f"{submission.reference}.pdf", "data.json", "anlagen/01-Ausweis.pdf", "metadata.json"]
    assert archive.read(f"{submission.reference}.pdf") == FAKE_PDF
    assert json.loads(archive.read("data.json")) == submission.answers
    metadata = json.loads(archive.read("metadata.json"))
    assert metadata["reference"] == submission.reference
    listed = {entry["name"]: entry for entry in metadata["files"]}
    assert set(listed) == set(names) - {"metadata.json"}
    for name, entry in listed.items():
        data = archive.read(name)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["size"] == len(data)
    assert listed["anlagen/01-Ausweis.pdf"]["sha256"] == submission.attachments[0].sha256
    (entry,) = _audit(AuditAction.SUBMISSION_EXPORTED)
    assert entry.actor_id == clerk.id and entry.details == {"format": "zip"}


def _csv(client: FlaskClient, url: str) -> tuple[bytes, list[list[str]]]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = response.data
    text = data.decode("utf-8-sig")
    return data, list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_csv_opens_in_german_excel_bom_semicolons_crlf_one_column_per_field(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    first = make_submission(
        service,
        place.commune,
        place.office,
        with_file(inbox_answers(), filename="Foto.png"),
        submitted_at=datetime(2026, 7, 1, 22, 15, tzinfo=UTC),
    )
    second = make_submission(
        service,
        place.commune,
        place.office,
        inbox_answers(name='Jürgen; "Groß"', email=None, farben=None, bemerkung="Zeile 1\nZeile 2"),
        status=SubmissionStatus.IN_PROGRESS,
        submitted_at=datetime(2026, 7, 2, 8, 0, tzinfo=UTC),
    )
    make_submission(service, place.commune, place.other_office)  # not the clerk's office
    log_in(client, clerk)
    data, rows = _csv(client, f"/staff/{place.commune.slug}/inbox/export.csv?service=inboxtest")
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data and data.count(b"\r\n") == data.count(b"\n") - 1  # the newline inside a cell
    assert rows[0] == HEADER
    assert rows[1] == [
        first.reference,
        "02.07.2026 00:15",
        "Eingegangen",
        "Erika Mustermann",
        "erika@example.org",
        "Am Markt",
        "1",
        "16356",
        "Werneuchen",
        "2",
        "Schwarz, Braun",
        "Zażółć gęślą jaźń",
        "Foto.png",
        "Ja",
    ]
    assert rows[2][:5] == [second.reference, "02.07.2026 10:00", "In Bearbeitung", 'Jürgen; "Groß"', ""]
    assert rows[2][10:12] == ["", "Zeile 1\nZeile 2"]
    assert len(rows) == 3
    (entry,) = _audit(AuditAction.SUBMISSIONS_LIST_EXPORTED)
    assert entry.object_id == "inboxtest" and entry.details["format"] == "csv"


def test_list_export_follows_the_inbox_filters(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    make_submission(service, place.commune, place.office)
    wanted = make_submission(service, place.commune, place.office, status=SubmissionStatus.COMPLETED)
    log_in(client, clerk)
    _, rows = _csv(client, f"/staff/{place.commune.slug}/inbox/export.csv?service=inboxtest&status=completed")
    assert [row[0] for row in rows[1:]] == [wanted.reference]


def test_cells_that_excel_would_run_as_formulas_are_defused_in_csv_and_xlsx(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    evil = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"]
    for text in evil:
        make_submission(service, place.commune, place.office, inbox_answers(name=text, bemerkung=text))
    log_in(client, clerk)
    _, rows = _csv(client, f"/staff/{place.commune.slug}/inbox/export.csv?service=inboxtest")
    assert sorted(row[3] for row in rows[1:]) == sorted("'" + text for text in evil)
    response = client.get(f"/staff/{place.commune.slug}/inbox/export.xlsx?service=inboxtest")
    sheet = load_workbook(io.BytesIO(response.data)).active
    names = [sheet.cell(row=row, column=4).value for row in range(2, sheet.max_row + 1)]
    assert sorted(names) == sorted("'" + text for text in evil)
    assert all(sheet.cell(row=row, column=4).data_type == "s" for row in range(2, sheet.max_row + 1))
    assert safe_cell("harmlos") == "harmlos" and safe_cell("") == ""


def test_xlsx_is_readable_by_openpyxl_with_dates_and_one_column_per_field(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    submission = make_submission(
        service, place.commune, place.office, submitted_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    )
    log_in(client, clerk)
    response = client.get(f"/staff/{place.commune.slug}/inbox/export.xlsx?service=inboxtest")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "Hundesteuer anmelden"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert rows[1][0] == submission.reference
    assert rows[1][1] == datetime(2026, 1, 5, 10, 30)  # Berlin time (winter)
    assert rows[1][9] == "2" and rows[1][5] == "Am Markt"
    (entry,) = _audit(AuditAction.SUBMISSIONS_LIST_EXPORTED)
    assert entry.details["format"] == "xlsx"


def test_list_export_needs_one_service(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    make_submission(service, place.commune, place.office)
    log_in(client, clerk)
    response = client.get(f"/staff/{place.commune.slug}/inbox/export.csv")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "Bitte wählen Sie zuerst eine Leistung" in page
    assert _audit(AuditAction.SUBMISSIONS_LIST_EXPORTED) == []


def test_columns_of_older_form_versions_follow_the_newest_form_s(
    client: FlaskClient, app: Flask, service: ServiceSpec, place: Place, clerk: User, tmp_path: Path
) -> None:
    old = make_submission(service, place.commune, place.office)
    newer_yaml = INBOX_FORM_YAML.replace(
        "            - name: bemerkung\n",
        "            - name: rasse\n              type: text\n              label: Rasse\n"
        "            - name: bemerkung\n",
    )
    with inbox_service(app, tmp_path / "newer", newer_yaml) as newer:
        new = make_submission(newer, place.commune, place.office, inbox_answers(rasse="Dackel"))
        log_in(client, clerk)
        _, rows = _csv(client, f"/staff/{place.commune.slug}/inbox/export.csv?service=inboxtest")
    assert rows[0][11] == "Rasse" and len(rows[0]) == len(HEADER) + 1
    by_reference = {row[0]: row for row in rows[1:]}
    assert by_reference[new.reference][11] == "Dackel" and by_reference[old.reference][11] == ""
