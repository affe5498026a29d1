"""Processing through the API: acknowledge (idempotent), reject with problems, status changes
along the workflow's table, messages for the citizen — each with its history entry, audit
entry and mail — and optimistic locking with If-Match."""

from __future__ import annotations

import pytest
from delivery.servers import SmtpRecorder
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from submission_builders import Place, make_submission

from app.extensions import db
from app.formspec import ServiceSpec
from app.staff.models import AuditAction, AuditEntry
from app.submissions.models import EventKind, Submission, SubmissionEvent, SubmissionStatus

from .builders import bearer, make_client

S = SubmissionStatus


def _url(submission: Submission, action: str) -> str:
    return f"/api/v1/submissions/{submission.reference}/{action}"


def _fresh(submission: Submission) -> Submission:
    found = db.session.get(Submission, submission.id, populate_existing=True)
    assert found is not None
    return found


def _events(submission: Submission) -> list[SubmissionEvent]:
    return list(
        db.session.scalars(
            select(SubmissionEvent)
            .where(SubmissionEvent.submission_id == submission.id)
            .order_by(SubmissionEvent.id)
        )
    )


def _audited(reference: str) -> list[AuditAction]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_id == reference, AuditEntry.actor_email.startswith("api:"))
            .order_by(AuditEntry.id)
        )
    )


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    body: dict = response.json  # type: ignore[type-arg]
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_acknowledge_moves_to_in_progress_once(
    client: FlaskClient, service: ServiceSpec, place: Place
) -> None:
    _api_client, token = make_client(place.commune, name="Gewerbe-Fachverfahren")
    submission = make_submission(service, place.commune, place.office)
    response = client.post(_url(submission, "acknowledge"), headers=bearer(token))
    assert response.status_code == 200
    assert response.json["status"] == "in_progress"
    fresh = _fresh(submission)
    assert fresh.status is S.IN_PROGRESS
    assert response.headers["ETag"] == f'"{fresh.version}"' and response.json["version"] == fresh.version
    [event] = [e for e in _events(submission) if e.kind is EventKind.STATUS_CHANGED]
    assert (event.from_status, event.to_status) == (S.RECEIVED, S.IN_PROGRESS)
    assert event.actor_name == "API-Client Gewerbe-Fachverfahren"
    assert not event.visible_to_citizen
    assert _audited(submission.reference) == [AuditAction.SUBMISSION_STATUS_CHANGED]

    again = client.post(_url(submission, "acknowledge"), headers=bearer(token))
    assert again.status_code == 200 and again.json["status"] == "in_progress"
    assert len([e for e in _events(submission) if e.kind is EventKind.STATUS_CHANGED]) == 1
    assert _fresh(submission).version == fresh.version
    assert _audited(submission.reference) == [
        AuditAction.SUBMISSION_STATUS_CHANGED,
        AuditAction.SUBMISSION_VIEWED,
    ]


@pytest.mark.parametrize("status", [S.WAITING, S.COMPLETED, S.REJECTED])
def test_acknowledge_in_another_state_is_409(
    client: FlaskClient, service: ServiceSpec, place: Place, token: str, status: SubmissionStatus
) -> None:
    submission = make_submission(service, place.commune, place.office, status=status)
    body = _problem(client.post(_url(submission, "acknowledge"), headers=bearer(token)), 409)
    assert body["type"].endswith("#problem-conflict")
    assert _fresh(submission).status is status


def test_if_match_guards_against_lost_updates(
    client: FlaskClient, service: ServiceSpec, place: Place, token: str
) -> None:
    submission = make_submission(service, place.commune, place.office)
    seen = client.get(f"/api/v1/submissions/{submission.reference}", headers=bearer(token)).headers["ETag"]
    stale = f'"{submission.version + 7}"'
    body = _problem(client.post(_url(submission, "acknowledge"), headers=bearer(token, If_Match=stale)), 412)
    assert body["type"].endswith("#problem-precondition-failed")
    assert _fresh(submission).status is S.RECEIVED
    done = client.post(_url(submission, "acknowledge"), headers=bearer(token, If_Match=seen))
    assert done.status_code == 200
    message = {"text": "Bitte senden Sie uns noch den Nachweis."}
    _problem(
        client.post(_url(submission, "messages"), json=message, headers=bearer(token, If_Match=seen)), 412
    )
    new = done.headers["ETag"]
    assert (
        client.post(
            _url(submission, "messages"), json=message, headers=bearer(token, If_Match=new)
        ).status_code
        == 201
    )


def test_reject_with_problems_tells_the_citizen(
    app: Flask,
    delivery_settings: Flask,
    smtp_server: SmtpRecorder,
    client: FlaskClient,
    service: ServiceSpec,
    place: Place,
    token: str,
) -> None:
    submission = make_submission(service, place.commune, place.office)
    problems = [
        {"title": "Nachweis fehlt", "detail": "Bitte laden Sie die Steuerbescheinigung hoch."},
        {"title": "Anschrift unvollständig"},
    ]
    response = client.post(_url(submission, "reject"), json={"problems": problems}, headers=bearer(token))
    assert response.status_code == 200
    assert response.json["status"] == "rejected" and response.json["completed_at"]
    changes = [
        (e.from_status, e.to_status) for e in _events(submission) if e.kind is EventKind.STATUS_CHANGED
    ]
    # The transition table has no received → rejected: the rejection passes through in_progress.
    assert changes == [(S.RECEIVED, S.IN_PROGRESS), (S.IN_PROGRESS, S.REJECTED)]
    final = _events(submission)[-1]
    assert final.visible_to_citizen
    assert "Nachweis fehlt: Bitte laden Sie die Steuerbescheinigung hoch." in final.text
    assert "Anschrift unvollständig" in final.text
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ("erika@example.org",)
    assert "Nachweis fehlt" in mail.message.get_body(preferencelist=("plain",)).get_content()
    assert _audited(submission.reference) == [
        AuditAction.SUBMISSION_STATUS_CHANGED,
        AuditAction.SUBMISSION_STATUS_CHANGED,
        AuditAction.SUBMISSION_MESSAGE_SENT,
    ]
    _problem(client.post(_url(submission, "reject"), json={"problems": problems}, headers=bearer(token)), 409)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"problems": []},
        {"problems": [{"detail": "ohne Titel"}]},
        {"problems": [{"title": ""}]},
        {"problems": [{"title": "x", "extra": 1}]},
        {"problems": "Nachweis fehlt"},
    ],
)
def test_reject_without_valid_problems_is_422(
    client: FlaskClient,
    service: ServiceSpec,
    place: Place,
    token: str,
    body: dict,  # type: ignore[type-arg]
) -> None:
    submission = make_submission(service, place.commune, place.office)
    problem = _problem(client.post(_url(submission, "reject"), json=body, headers=bearer(token)), 422)
    assert problem["errors"] and all("pointer" in e and e["detail"] for e in problem["errors"])
    assert _fresh(submission).status is S.RECEIVED


def test_status_changes_follow_the_transition_table(
    delivery_settings: Flask,
    smtp_server: SmtpRecorder,
    client: FlaskClient,
    service: ServiceSpec,
    place: Place,
    token: str,
) -> None:
    submission = make_submission(service, place.commune, place.office)

    def post(body: dict[str, str]):  # type: ignore[no-untyped-def]
        return client.post(_url(submission, "status"), json=body, headers=bearer(token))

    _problem(post({"status": "completed"}), 409)
    assert post({"status": "in_progress"}).status_code == 200
    missing = _problem(post({"status": "waiting"}), 422)
    assert missing["errors"][0]["pointer"] == "/message"
    assert post({"status": "waiting", "message": "Bitte senden Sie den Impfpass."}).status_code == 200
    assert post({"status": "in_progress"}).status_code == 200
    done = post({"status": "completed", "message": "Ihr Hund ist angemeldet."})
    assert done.status_code == 200 and done.json["status"] == "completed"
    _problem(post({"status": "in_progress"}), 409)
    _problem(post({"status": "lost"}), 422)
    visible = [e.text for e in _events(submission) if e.visible_to_citizen]
    assert visible == ["Bitte senden Sie den Impfpass.", "Ihr Hund ist angemeldet."]
    assert len(smtp_server.wait_for(2)) == 2


def test_message_reaches_status_page_and_mailbox(
    delivery_settings: Flask,
    smtp_server: SmtpRecorder,
    client: FlaskClient,
    service: ServiceSpec,
    place: Place,
    token: str,
) -> None:
    submission = make_submission(service, place.commune, place.office, token="geheimes-token")
    response = client.post(
        _url(submission, "messages"), json={"text": "Wir melden uns nächste Woche."}, headers=bearer(token)
    )
    assert response.status_code == 201
    assert response.json["text"] == "Wir melden uns nächste Woche."
    event = db.session.get(SubmissionEvent, response.json["id"])
    assert event is not None and event.kind is EventKind.MESSAGE and event.visible_to_citizen
    assert event.actor_name.startswith("API-Client ")
    [mail] = smtp_server.wait_for(1)
    assert "Wir melden uns nächste Woche." in mail.message.get_body(preferencelist=("plain",)).get_content()
    page = client.get(f"/{place.commune.slug}/status/{submission.reference}?token=geheimes-token")
    assert "Wir melden uns nächste Woche." in page.get_data(as_text=True)
    assert _audited(submission.reference) == [AuditAction.SUBMISSION_MESSAGE_SENT]
    _problem(client.post(_url(submission, "messages"), json={"text": ""}, headers=bearer(token)), 422)


def test_bodies_must_be_json(client: FlaskClient, service: ServiceSpec, place: Place, token: str) -> None:
    submission = make_submission(service, place.commune, place.office)
    url = _url(submission, "messages")
    _problem(client.post(url, data="text=hallo", headers=bearer(token)), 415)
    _problem(client.post(url, data="{kaputt", content_type="application/json", headers=bearer(token)), 400)
    _problem(client.post(url, data="x" * 70_000, content_type="application/json", headers=bearer(token)), 413)
    assert _events(submission) == []
