"""Reading through the API: the list (cursor pages, since=, status), one submission with its
hashes and links, the downloads as stored bytes, and an audit entry for every read."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from flask.testing import FlaskClient
from sqlalchemy import select
from submission_builders import FAKE_PDF, Place, inbox_answers, make_submission, with_file

from app.extensions import db
from app.formspec import ServiceSpec, data_schema
from app.staff.models import AuditAction, AuditEntry
from app.submissions.models import SubmissionStatus

from .builders import bearer, make_client

LIST = "/api/v1/submissions"
T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def _series(service: ServiceSpec, place: Place, count: int) -> list[str]:
    return [
        make_submission(service, place.commune, place.office, submitted_at=T0 + timedelta(hours=n)).reference
        for n in range(count)
    ]


def test_list_gives_summaries_oldest_first(
    client: FlaskClient, service: ServiceSpec, place: Place, token: str
) -> None:
    references = _series(service, place, 3)
    response = client.get(LIST, headers=bearer(token))
    assert response.status_code == 200
    body = response.json
    assert [item["reference"] for item in body["items"]] == references
    assert body["has_more"] is False and body["next_cursor"]
    first = body["items"][0]
    assert first["status"] == "received"
    assert first["service"] == {"slug": service.slug, "title": service.title}
    assert first["office"]["id"] == place.office.id
    assert datetime.fromisoformat(first["submitted_at"]) == T0
    assert first["href"].endswith(f"/api/v1/submissions/{references[0]}")
    assert "data" not in first


def test_cursor_walks_every_submission_once(
    client: FlaskClient, service: ServiceSpec, place: Place, token: str
) -> None:
    references = _series(service, place, 5)
    # Two at the same instant: the id breaks the tie, so neither is skipped nor repeated.
    references.append(
        make_submission(service, place.commune, place.office, submitted_at=T0 + timedelta(hours=4)).reference
    )
    seen, cursor, pages = [], None, 0
    while True:
        url = f"{LIST}?limit=2" + (f"&cursor={quote(cursor)}" if cursor else "")
        body = client.get(url, headers=bearer(token)).json
        seen += [item["reference"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    assert seen == references
    assert pages == 3


def test_cursor_of_the_last_page_finds_later_submissions(
    client: FlaskClient, service: ServiceSpec, place: Place, token: str
) -> None:
    """Polling: the last page's cursor, kept, gives exactly what arrived since."""
    empty = client.get(LIST, headers=bearer(token)).json
    assert empty == {"items": [], "next_cursor": None, "has_more": False}
    _series(service, place, 2)
    last = client.get(LIST, headers=bearer(token)).json
    assert last["has_more"] is False
    cursor = last["next_cursor"]
    nothing = client.get(f"{LIST}?cursor={quote(cursor)}", headers=bearer(token)).json
    assert nothing == {"items": [], "next_cursor": cursor, "has_more": False}
    newer = make_submission(service, place.commune, place.office, submitted_at=T0 + timedelta(days=1))
    again = client.get(f"{LIST}?cursor={quote(cursor)}", headers=bearer(token)).json
    assert [item["reference"] for item in again["items"]] == [newer.reference]


def test_since_and_status_filter(client: FlaskClient, service: ServiceSpec, place: Place, token: str) -> None:
    references = _series(service, place, 4)
    since = quote((T0 + timedelta(hours=2)).isoformat())
    body = client.get(f"{LIST}?since={since}", headers=bearer(token)).json
    assert [item["reference"] for item in body["items"]] == references[2:]
    zulu = client.get(f"{LIST}?since=2026-07-01T10:00:00Z", headers=bearer(token)).json
    assert [item["reference"] for item in zulu["items"]] == references[2:]
    berlin = client.get(f"{LIST}?since={quote('2026-07-01T12:00:00+02:00')}", headers=bearer(token)).json
    assert [item["reference"] for item in berlin["items"]] == references[2:]
    done = make_submission(service, place.commune, place.office, status=SubmissionStatus.COMPLETED)
    only = client.get(f"{LIST}?status=completed", headers=bearer(token)).json
    assert [item["reference"] for item in only["items"]] == [done.reference]


def test_bad_list_parameters_are_400_problems(client: FlaskClient, place: Place, token: str) -> None:
    for query in (
        "since=2026-07-01T10:00:00",  # no zone
        "since=gestern",
        "status=lost",
        "limit=0",
        "limit=101",
        "limit=zwei",
        "cursor=not-a-cursor",
        "cursor=" + quote("W10"),  # base64 of "[]"
    ):
        response = client.get(f"{LIST}?{query}", headers=bearer(token))
        assert response.status_code == 400, query
        assert response.mimetype == "application/problem+json"
        assert response.json["detail"]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_fetch_gives_answers_files_hashes_and_links(
    client: FlaskClient, service: ServiceSpec, place: Place, token: str
) -> None:
    submission = make_submission(service, place.commune, place.office, with_file(inbox_answers()))
    response = client.get(f"{LIST}/{submission.reference}", headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{submission.version}"'
    body = response.json
    assert body["data"] == submission.answers
    assert body["version"] == submission.version
    assert body["form_version"] == service.version
    assert body["submitter"] == {"name": "Erika Mustermann", "email": "erika@example.org"}
    assert body["pdf"]["sha256"] == _digest(FAKE_PDF) and body["pdf"]["size"] == len(FAKE_PDF)

    pdf = client.get(body["pdf"]["href"], headers=bearer(token))
    assert pdf.status_code == 200 and pdf.data == FAKE_PDF
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment;")
    assert pdf.headers["ETag"] == f'"{_digest(FAKE_PDF)}"'
    again = client.get(body["pdf"]["href"], headers=bearer(token, If_None_Match=pdf.headers["ETag"]))
    assert again.status_code == 304

    data = client.get(body["data_file"]["href"], headers=bearer(token))
    assert data.status_code == 200
    assert _digest(data.data) == body["data_file"]["sha256"]
    assert json.loads(data.data) == submission.answers

    [attachment] = body["attachments"]
    stored = submission.attachments[0]
    assert attachment["sha256"] == stored.sha256 and attachment["field"] == "nachweis"
    file = client.get(attachment["href"], headers=bearer(token))
    assert file.status_code == 200
    assert _digest(file.data) == stored.sha256
    assert file.mimetype == "image/png"
    assert file.headers["Content-Disposition"].startswith("attachment;")

    schema = client.get(body["schema_href"], headers=bearer(token))
    assert schema.status_code == 200
    assert json.loads(schema.data) == data_schema(service)


def test_missing_pdf_and_foreign_attachment_are_404(
    client: FlaskClient, service: ServiceSpec, place: Place, token: str
) -> None:
    without_pdf = make_submission(service, place.commune, place.office, pdf=None)
    body = client.get(f"{LIST}/{without_pdf.reference}", headers=bearer(token)).json
    assert body["pdf"] is None
    assert client.get(f"{LIST}/{without_pdf.reference}/pdf", headers=bearer(token)).status_code == 404
    other = make_submission(service, place.commune, place.office, with_file(inbox_answers()))
    attachment_id = other.attachments[0].id
    response = client.get(
        f"{LIST}/{without_pdf.reference}/attachments/{attachment_id}", headers=bearer(token)
    )
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_every_read_is_audited_with_the_client_as_actor(
    client: FlaskClient, service: ServiceSpec, place: Place
) -> None:
    api_client, token = make_client(place.commune, name="Fachverfahren Hund")
    submission = make_submission(service, place.commune, place.office, with_file(inbox_answers()))
    base = f"{LIST}/{submission.reference}"
    for url in (
        LIST,
        base,
        f"{base}/pdf",
        f"{base}/data.json",
        f"{base}/attachments/{submission.attachments[0].id}",
    ):
        assert client.get(url, headers=bearer(token)).status_code == 200
    entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    reads = [entry for entry in entries if entry.actor_email.startswith("api:")]
    assert [entry.action for entry in reads] == [
        AuditAction.SUBMISSIONS_LISTED,
        AuditAction.SUBMISSION_VIEWED,
        AuditAction.DOCUMENT_DOWNLOADED,
        AuditAction.DOCUMENT_DOWNLOADED,
        AuditAction.ATTACHMENT_DOWNLOADED,
    ]
    for entry in reads:
        assert entry.actor_id is None
        assert entry.commune_id == place.commune.id
        assert api_client.token_prefix in entry.actor_email and "fachverfahren hund" in entry.actor_email
    assert {entry.object_id for entry in reads[1:]} == {submission.reference}
    assert reads[0].details["count"] == 1
