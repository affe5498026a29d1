"""File inspection (Akteneinsicht): a clerk grants chosen documents, the applicant gets the link by
e-mail, every access is logged, the page ends on expiry or revocation, and a tampered or foreign
token finds nothing. Documents are served as attachments that browsers never sniff."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
from delivery.servers import SmtpRecorder
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from staff.builders import log_in, make_user
from submission_builders import FAKE_PDF, Place, inbox_answers, make_submission, with_file

from app.efile.models import DocumentSource, InspectionAccess, InspectionGrant
from app.extensions import db
from app.formspec import ServiceSpec
from app.staff.models import AuditAction, AuditEntry, Role, User
from app.submissions.models import Submission
from app.timeutil import utcnow

LINK = re.compile(r"https://portal\.example/(?P<commune>[\w-]+)/inspection/(?P<token>[\w-]+)")


def _grant(
    client: FlaskClient, place: Place, submission: Submission, **data: object
) -> tuple[FlaskClient, object]:
    form: dict[str, object] = {
        "recipient": "erika@example.org",
        "documents": ["pdf", f"attachment-{submission.attachments[0].id}"],
        "days": "14",
        "message": "Wie besprochen.",
    }
    form.update(data)
    response = client.post(
        f"/staff/{place.commune.slug}/submissions/{submission.reference}/efile/inspections",
        data=form,
        content_type="multipart/form-data",
    )
    return client, response


@pytest.fixture
def submission(service: ServiceSpec, place: Place) -> Submission:
    return make_submission(
        service,
        place.commune,
        place.office,
        with_file(inbox_answers(), b"<html>nachweis</html>", "Nachweis.html"),
    )


@pytest.fixture
def granted(
    delivery_settings: Flask,
    smtp_server: SmtpRecorder,
    client: FlaskClient,
    place: Place,
    submission: Submission,
    clerk: User,
) -> str:
    """A grant of the PDF and the attachment plus an upload; returns the path from the e-mail."""
    log_in(client, clerk)
    _, response = _grant(
        client, place, submission, upload=(io.BytesIO(b"Vermerk aus der Akte"), "Vermerk.txt")
    )
    assert response.status_code == 302, response.text
    (mail,) = smtp_server.wait_for(1)
    message = mail.message
    assert message["To"] == "erika@example.org"
    assert submission.reference in message["Subject"]
    body = message.get_content()
    assert "Wie besprochen." in body
    match = LINK.search(body)
    assert match and match.group("commune") == place.commune.slug
    client.post("/staff/logout")
    return match.group(0).removeprefix("https://portal.example")


def _accesses() -> list[InspectionAccess]:
    return list(db.session.scalars(select(InspectionAccess).order_by(InspectionAccess.id)))


def test_grant_mails_a_link_whose_page_lists_documents_with_size_and_sha256_and_logs_the_visit(
    client: FlaskClient, granted: str, submission: Submission
) -> None:
    token = granted.rsplit("/", 1)[1]
    grant = db.session.scalar(select(InspectionGrant))
    assert grant is not None
    assert grant.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(grant.__dict__)
    assert [d.source for d in grant.documents] == [
        DocumentSource.PDF,
        DocumentSource.ATTACHMENT,
        DocumentSource.UPLOAD,
    ]
    page = client.get(granted, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    for document in grant.documents:
        assert document.filename in page.text and document.sha256 in page.text
    assert hashlib.sha256(FAKE_PDF).hexdigest() in page.text
    (access,) = _accesses()
    assert access.grant_id == grant.id and access.document_id is None
    assert access.client_address == "192.0.2.7"
    (entry,) = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.INSPECTION_GRANTED)
    )
    assert entry.object_id == submission.reference


def test_documents_download_as_attachments_with_nosniff_and_each_download_is_logged(
    client: FlaskClient, granted: str
) -> None:
    grant = db.session.scalar(select(InspectionGrant))
    assert grant is not None
    html, upload = grant.documents[1], grant.documents[2]
    response = client.get(f"{granted}/documents/{html.id}", environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert response.status_code == 200
    assert response.data == b"<html>nachweis</html>"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert client.get(f"{granted}/documents/{upload.id}").data == b"Vermerk aus der Akte"
    logged = _accesses()
    assert [a.document_id for a in logged] == [html.id, upload.id]
    assert logged[0].client_address == "198.51.100.4"


def test_a_document_of_another_grant_is_not_served(
    client: FlaskClient, granted: str, place: Place, submission: Submission, clerk: User
) -> None:
    log_in(client, clerk)
    _grant(client, place, submission, documents=["pdf"])
    client.post("/staff/logout")
    _first, second = db.session.scalars(select(InspectionGrant).order_by(InspectionGrant.id))
    assert client.get(f"{granted}/documents/{second.documents[0].id}").status_code == 404
    assert _accesses() == []


def test_expired_and_revoked_links_answer_410_with_a_clear_page(
    client: FlaskClient, granted: str, place: Place, submission: Submission, clerk: User
) -> None:
    grant = db.session.scalar(select(InspectionGrant))
    assert grant is not None
    document = grant.documents[0]
    grant.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = client.get(granted)
    assert expired.status_code == 410 and "abgelaufen" in expired.text
    assert client.get(f"{granted}/documents/{document.id}").status_code == 410

    grant.expires_at = utcnow() + timedelta(days=1)
    db.session.commit()
    assert client.get(granted).status_code == 200
    log_in(client, clerk)
    page = f"/staff/{place.commune.slug}/submissions/{submission.reference}/efile"
    revoked = client.post(f"{page}/inspections/{grant.id}/revoke", follow_redirects=True)
    assert "widerrufen" in revoked.text
    client.post("/staff/logout")
    gone = client.get(granted)
    assert gone.status_code == 410 and "widerrufen" in gone.text
    assert gone.headers["Cache-Control"] == "no-store"
    assert client.get(f"{granted}/documents/{document.id}").status_code == 410
    assert [a.document_id for a in _accesses()] == [None]
    revocations = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.INSPECTION_REVOKED)
    )
    assert len(list(revocations)) == 1


def test_tampered_unknown_and_foreign_commune_tokens_answer_404(
    client: FlaskClient, granted: str, foreign: Place
) -> None:
    prefix, token = granted.rsplit("/", 1)
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"{prefix}/{changed}").status_code == 404
    assert client.get(f"{prefix}/{token[:-1]}").status_code == 404
    assert client.get(f"{prefix}/not%20a%20token").status_code == 404
    assert client.get(f"/{foreign.commune.slug}/inspection/{token}").status_code == 404
    assert _accesses() == []


def test_grant_without_documents_or_with_a_bad_address_is_refused_and_nothing_stored(
    delivery_settings: Flask,
    smtp_server: SmtpRecorder,
    client: FlaskClient,
    place: Place,
    submission: Submission,
    clerk: User,
) -> None:
    log_in(client, clerk)
    _, nothing = _grant(client, place, submission, documents=[])
    assert nothing.status_code == 400 and "mindestens ein Dokument" in nothing.text
    _, bad = _grant(client, place, submission, recipient="erika at example")
    assert bad.status_code == 400 and "gültige E-Mail-Adresse" in bad.text
    _, long = _grant(client, place, submission, days="365")
    assert long.status_code == 400
    assert db.session.scalar(select(InspectionGrant)) is None
    assert smtp_server.messages == []


def test_only_the_submissions_office_may_grant_or_revoke(
    client: FlaskClient, granted: str, place: Place, foreign: Place, submission: Submission
) -> None:
    grant = db.session.scalar(select(InspectionGrant))
    assert grant is not None
    base = f"/staff/{place.commune.slug}/submissions/{submission.reference}/efile"
    for outsider in (
        make_user(Role.CLERK, commune=place.commune, offices=[place.other_office]),
        make_user(Role.COMMUNE_ADMIN, commune=foreign.commune),
    ):
        log_in(client, outsider)
        assert client.post(f"{base}/inspections/{grant.id}/revoke").status_code == 404
        _, response = _grant(client, place, submission)
        assert response.status_code == 404
        client.post("/staff/logout")
    db.session.refresh(grant)
    assert grant.revoked_at is None
    assert db.session.scalar(select(db.func.count(InspectionGrant.id))) == 1


def test_staff_page_shows_grants_with_their_access_log(
    client: FlaskClient, granted: str, place: Place, submission: Submission, clerk: User
) -> None:
    client.get(granted, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    log_in(client, clerk)
    page = client.get(f"/staff/{place.commune.slug}/submissions/{submission.reference}/efile")
    assert page.status_code == 200
    assert "erika@example.org" in page.text and "203.0.113.9" in page.text
    assert "Link widerrufen" in page.text
