"""The submission detail: answers as the PDF shows them, files, delivery log, history, audit."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from delivery.builders import Channels
from delivery.servers import SmtpRecorder
from flask import Flask
from flask.testing import FlaskClient
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

from app.delivery.models import Delivery, DeliveryState
from app.delivery.services import enqueue_deliveries
from app.extensions import db
from app.formspec import ServiceSpec, summarise
from app.staff.models import AuditAction, AuditEntry, Role, User
from app.submissions.models import EventKind, Submission, SubmissionEvent
from staff.builders import log_in, make_user

PNG = b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script>"


@pytest.fixture
def clerk(place: Place) -> User:
    return make_user(Role.CLERK, commune=place.commune, offices=[place.office], name="Karla Klerk")


def _url(submission: Submission, suffix: str = "") -> str:
    return f"/staff/{submission.commune.slug}/submissions/{submission.reference}{suffix}"


def _audit(action: AuditAction) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_detail_shows_every_answer_as_the_pdf_does_and_is_audited(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    submission = make_submission(service, place.commune, place.office)
    log_in(client, clerk)
    response = client.get(_url(submission))
    assert response.status_code == 200
    page = response.text
    for section in summarise(service, submission.answers):
        assert section.title in page
        for fieldset in section.fieldsets:
            for row in fieldset.rows:
                assert row.label in page
                assert row.text.replace("&", "&amp;") in page, row.name
    assert "Am Markt 1, 16356 Werneuchen" in page and "Schwarz, Braun" in page
    assert "Zażółć gęślą jaźń" in page
    entries = _audit(AuditAction.SUBMISSION_VIEWED)
    assert [(e.actor_id, e.object_id, e.commune_id) for e in entries] == [
        (clerk.id, submission.reference, place.commune.id)
    ]


def test_detail_renders_old_submissions_with_the_form_they_were_filled_against(
    client: FlaskClient, app: Flask, service: ServiceSpec, place: Place, clerk: User, tmp_path: Path
) -> None:
    submission = make_submission(service, place.commune, place.office)
    changed = INBOX_FORM_YAML.replace("label: Anzahl der Hunde", "label: Wie viele Hunde halten Sie?")
    with inbox_service(app, tmp_path / "newer", changed) as newer:
        assert newer.version != service.version
        log_in(client, clerk)
        page = client.get(_url(submission)).text
    assert "Anzahl der Hunde" in page and "Wie viele Hunde" not in page


def test_answers_are_escaped(client: FlaskClient, service: ServiceSpec, place: Place, clerk: User) -> None:
    submission = make_submission(
        service, place.commune, place.office, inbox_answers(bemerkung="<script>alert('x')</script>")
    )
    log_in(client, clerk)
    page = client.get(_url(submission)).text
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_pdf_data_json_and_attachments_download_as_attachments_and_are_audited(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    submission = make_submission(
        service, place.commune, place.office, with_file(inbox_answers(), PNG, "Bild für Jürgen.png")
    )
    attachment = submission.attachments[0]
    log_in(client, clerk)
    pdf = client.get(_url(submission, "/pdf"))
    assert pdf.status_code == 200 and pdf.data == FAKE_PDF
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment;")
    data = client.get(_url(submission, "/data.json"))
    assert json.loads(data.data) == submission.answers
    assert data.headers["Content-Disposition"].startswith("attachment;")
    file = client.get(_url(submission, f"/attachments/{attachment.id}"))
    assert file.status_code == 200 and file.data == PNG
    assert hashlib.sha256(file.data).hexdigest() == attachment.sha256
    assert file.headers["X-Content-Type-Options"] == "nosniff"
    assert file.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''Bild%20f%C3%BCr%20J%C3%BCrgen.png" in file.headers["Content-Disposition"]
    assert "sandbox" in file.headers["Content-Security-Policy"]
    downloads = _audit(AuditAction.DOCUMENT_DOWNLOADED)
    assert sorted(e.details["file"] for e in downloads) == ["data.json", "pdf"]
    (attachment_entry,) = _audit(AuditAction.ATTACHMENT_DOWNLOADED)
    assert attachment_entry.details == {"attachment": attachment.id, "field": "nachweis"}
    assert attachment_entry.actor_id == clerk.id


def test_an_attachment_of_another_submission_is_404(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    first = make_submission(service, place.commune, place.office, with_file(inbox_answers()))
    second = make_submission(service, place.commune, place.office, with_file(inbox_answers()))
    log_in(client, clerk)
    assert client.get(_url(first, f"/attachments/{second.attachments[0].id}")).status_code == 404
    assert client.get(_url(first, "/attachments/999999")).status_code == 404
    assert client.get(_url(first, "/attachments/abc")).status_code == 404
    assert _audit(AuditAction.ATTACHMENT_DOWNLOADED) == []


def test_a_failed_pdf_shows_its_error_and_has_no_download(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    submission = make_submission(
        service, place.commune, place.office, pdf=None, pdf_error="reportlab: Schrift fehlt"
    )
    log_in(client, clerk)
    page = client.get(_url(submission)).text
    assert "reportlab: Schrift fehlt" in page
    assert client.get(_url(submission, "/pdf")).status_code == 404


def test_delivery_log_and_retry_with_history_audit_and_an_attempt_after_commit(
    client: FlaskClient,
    service: ServiceSpec,
    place: Place,
    clerk: User,
    delivery_settings: Flask,
    smtp_server: SmtpRecorder,
) -> None:
    submission = make_submission(service, place.commune, place.office)
    (delivery,) = enqueue_deliveries(submission, Channels(email_to="amt@example.org"), place.office)
    delivery.state = DeliveryState.FAILED
    delivery.attempts = 10
    delivery.last_error = "SMTP 127.0.0.1:1: Connection refused"
    delivery.next_attempt_at = None
    db.session.commit()
    log_in(client, clerk)
    page = client.get(_url(submission)).text
    assert "E-Mail" in page and "amt@example.org" in page and "Fehlgeschlagen" in page
    assert "Connection refused" in page and "Erneut zustellen" in page
    response = client.post(_url(submission, f"/deliveries/{delivery.id}/retry"))
    assert response.status_code == 302
    fresh = db.session.get(Delivery, delivery.id, populate_existing=True)
    assert fresh is not None and fresh.state is DeliveryState.DELIVERED
    assert fresh.retried_by == "Karla Klerk"
    assert len(smtp_server.messages) == 1 and smtp_server.messages[0].rcpt_tos == ("amt@example.org",)
    events = db.session.scalars(select(SubmissionEvent).where(SubmissionEvent.submission_id == submission.id))
    assert [(e.kind, e.actor_name) for e in events] == [(EventKind.NOTE, "Karla Klerk")]
    (entry,) = _audit(AuditAction.DELIVERY_RETRIED)
    assert entry.details == {"delivery": delivery.id, "channel": "email"}
    again = client.post(_url(submission, f"/deliveries/{delivery.id}/retry"))
    assert again.status_code == 400 and "kann gerade nicht wiederholt werden" in again.text


def test_retrying_a_delivery_of_another_submission_is_404(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    first = make_submission(service, place.commune, place.office)
    second = make_submission(service, place.commune, place.office)
    (delivery,) = enqueue_deliveries(second, Channels(email_to="amt@example.org"), place.office)
    db.session.commit()
    log_in(client, clerk)
    assert client.post(_url(first, f"/deliveries/{delivery.id}/retry")).status_code == 404
    assert _audit(AuditAction.DELIVERY_RETRIED) == []


def test_history_lists_events_newest_first_with_who(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    submission = make_submission(service, place.commune, place.office)
    submission.events.append(SubmissionEvent(kind=EventKind.SUBMITTED, text="Antrag eingegangen"))
    submission.events.append(SubmissionEvent(kind=EventKind.NOTE, actor_name="Karla Klerk", text="Zweite"))
    db.session.commit()
    log_in(client, clerk)
    page = client.get(_url(submission)).text
    history = page[page.index("<h2>Verlauf</h2>") :]
    assert history.index("Zweite") < history.index("Antrag eingegangen")
    assert "Karla Klerk" in history and "Interne Notiz" in history


def test_an_unknown_or_overlong_reference_is_404(client: FlaskClient, place: Place, clerk: User) -> None:
    log_in(client, clerk)
    base = f"/staff/{place.commune.slug}/submissions/"
    for reference in ("G999-2026-000001", "x" * 300, "%27%20OR%201%3D1"):
        assert client.get(base + reference).status_code == 404
