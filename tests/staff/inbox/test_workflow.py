"""Processing a submission: status changes, messages to the citizen, assignment, notes,
optimistic locking, CSRF and the expired session."""

from __future__ import annotations

import re
import time

import pytest
from delivery.servers import SmtpRecorder, wait_until
from flask import Config, Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from submission_builders import Place, make_submission

from app.extensions import db
from app.formspec import ServiceSpec
from app.staff.audit import Origin
from app.staff.auth import LAST_SEEN_KEY
from app.staff.inbox import services
from app.staff.inbox.services import TRANSITIONS, StaleSubmission, WorkflowError
from app.staff.models import AuditAction, AuditEntry, Role, User
from app.submissions.models import EventKind, Submission, SubmissionEvent, SubmissionStatus
from staff.builders import log_in, make_user

S = SubmissionStatus


def _url(submission: Submission, action: str = "") -> str:
    base = f"/staff/{submission.commune.slug}/submissions/{submission.reference}"
    return f"{base}/{action}" if action else base


def _post_status(
    client: FlaskClient, submission: Submission, status: str, message: str = "", version: int | None = None
):  # type: ignore[no-untyped-def]
    return client.post(
        _url(submission, "status"),
        data={
            "status-version": submission.version if version is None else version,
            "status-status": status,
            "status-message": message,
        },
    )


def _fresh(submission: Submission) -> Submission:
    found = db.session.get(Submission, submission.id, populate_existing=True)
    assert found is not None
    return found


def _audit_actions(reference: str) -> list[AuditAction]:
    return list(
        db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_id == reference).order_by(AuditEntry.id)
        )
    )


@pytest.fixture
def clerk(place: Place) -> User:
    return make_user(Role.CLERK, commune=place.commune, offices=[place.office], name="Karla Klerk")


def test_the_transition_table_is_the_issue_s_workflow() -> None:
    assert TRANSITIONS == {
        S.RECEIVED: (S.IN_PROGRESS,),
        S.IN_PROGRESS: (S.WAITING, S.COMPLETED, S.REJECTED),
        S.WAITING: (S.IN_PROGRESS,),
        S.COMPLETED: (),
        S.REJECTED: (),
    }


@pytest.mark.parametrize(
    ("start", "target", "message"),
    [
        (S.RECEIVED, S.IN_PROGRESS, ""),
        (S.IN_PROGRESS, S.WAITING, "Bitte reichen Sie den Impfnachweis nach."),
        (S.WAITING, S.IN_PROGRESS, ""),
        (S.IN_PROGRESS, S.COMPLETED, ""),
        (S.IN_PROGRESS, S.REJECTED, "Der Hund ist in einer anderen Gemeinde gemeldet."),
    ],
)
def test_every_allowed_transition_records_who_when_and_what(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User, start: S, target: S, message: str
) -> None:
    submission = make_submission(service, place.commune, place.office, status=start)
    log_in(client, clerk)
    response = _post_status(client, submission, target.value, message)
    assert response.status_code == 302, response.text
    done = _fresh(submission)
    assert done.status is target
    assert (done.completed_at is not None) == (target in (S.COMPLETED, S.REJECTED))
    event = done.events[-1]
    assert (event.kind, event.from_status, event.to_status) == (EventKind.STATUS_CHANGED, start, target)
    assert (event.actor_id, event.actor_name, event.text) == (clerk.id, "Karla Klerk", message)
    assert event.visible_to_citizen is bool(message)
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == AuditAction.SUBMISSION_STATUS_CHANGED)
    )
    assert entry is not None and entry.actor_id == clerk.id and entry.object_id == submission.reference
    assert entry.details == {"old": start.value, "new": target.value}
    assert entry.commune_id == place.commune.id
    page = client.get(response.headers["Location"]).text
    assert "Der Status ist jetzt" in page


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.RECEIVED, S.COMPLETED),
        (S.RECEIVED, S.REJECTED),
        (S.RECEIVED, S.WAITING),
        (S.RECEIVED, S.RECEIVED),
        (S.WAITING, S.COMPLETED),
        (S.COMPLETED, S.IN_PROGRESS),
        (S.REJECTED, S.RECEIVED),
        (S.IN_PROGRESS, S.RECEIVED),
    ],
)
def test_an_illegal_transition_is_refused_with_a_message_and_changes_nothing(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User, start: S, target: S
) -> None:
    submission = make_submission(service, place.commune, place.office, status=start)
    version = submission.version
    log_in(client, clerk)
    response = _post_status(client, submission, target.value, "Eine Nachricht")
    assert response.status_code == 400
    assert "kann nicht auf" in response.text and "Es gibt ein Problem" in response.text
    fresh = _fresh(submission)
    assert (fresh.status, fresh.version, fresh.events) == (start, version, [])
    assert _audit_actions(submission.reference) == []


@pytest.mark.parametrize("forged", ["frozen", "", "IN_PROGRESS", "in_progress' OR 1=1"])
def test_a_forged_status_value_is_refused(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User, forged: str
) -> None:
    submission = make_submission(service, place.commune, place.office)
    log_in(client, clerk)
    response = _post_status(client, submission, forged)
    assert response.status_code == 400
    assert _fresh(submission).status is S.RECEIVED


@pytest.mark.parametrize(
    ("target", "needed"),
    [(S.REJECTED, "Grund der Ablehnung"), (S.WAITING, "worauf Sie von der antragstellenden Person warten")],
)
def test_rejecting_needs_a_reason_and_waiting_a_message(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User, target: S, needed: str
) -> None:
    submission = make_submission(service, place.commune, place.office, status=S.IN_PROGRESS)
    log_in(client, clerk)
    response = _post_status(client, submission, target.value, "   \r\n ")
    assert response.status_code == 400 and needed in response.text
    assert _fresh(submission).status is S.IN_PROGRESS


def test_a_message_to_the_citizen_shows_on_the_status_page_and_is_emailed_after_commit(
    client: FlaskClient,
    service: ServiceSpec,
    place: Place,
    clerk: User,
    delivery_settings: Flask,
    smtp_server: SmtpRecorder,
) -> None:
    submission = make_submission(service, place.commune, place.office, status=S.IN_PROGRESS, token="geheim")
    log_in(client, clerk)
    message = "Bitte reichen Sie den Impfnachweis für Ihren Hund nach."
    assert _post_status(client, submission, S.WAITING.value, message).status_code == 302
    assert wait_until(lambda: len(smtp_server.messages) == 1)
    mail = smtp_server.messages[0]
    assert mail.rcpt_tos == ("erika@example.org",)
    assert submission.reference in mail.message["Subject"]
    body = mail.message.get_content()
    assert message in body and "Ordnungsamt" in body
    status_page = client.get(f"/{place.commune.slug}/status/{submission.reference}?token=geheim")
    assert status_page.status_code == 200
    assert message in status_page.text and "Wartet auf Ihre Rückmeldung" in status_page.text
    assert _audit_actions(submission.reference)[-2:] == [
        AuditAction.SUBMISSION_STATUS_CHANGED,
        AuditAction.SUBMISSION_MESSAGE_SENT,
    ]


def test_a_refused_change_sends_no_mail(
    client: FlaskClient,
    service: ServiceSpec,
    place: Place,
    clerk: User,
    delivery_settings: Flask,
    smtp_server: SmtpRecorder,
) -> None:
    submission = make_submission(service, place.commune, place.office)
    log_in(client, clerk)
    assert _post_status(client, submission, S.COMPLETED.value, "Fertig").status_code == 400
    time.sleep(0.3)
    assert smtp_server.messages == []


def test_a_message_without_status_change_and_an_internal_note(
    client: FlaskClient,
    service: ServiceSpec,
    place: Place,
    clerk: User,
    delivery_settings: Flask,
    smtp_server: SmtpRecorder,
) -> None:
    submission = make_submission(service, place.commune, place.office, token="geheim")
    log_in(client, clerk)
    assert (
        client.post(_url(submission, "notes"), data={"note-note": "Halter vorbestraft?"}).status_code == 302
    )
    sent = client.post(_url(submission, "messages"), data={"message-message": "Wir melden uns bald."})
    assert sent.status_code == 302
    assert wait_until(lambda: len(smtp_server.messages) == 1)
    status_page = client.get(f"/{place.commune.slug}/status/{submission.reference}?token=geheim").text
    assert "Wir melden uns bald." in status_page and "vorbestraft" not in status_page
    detail = client.get(_url(submission)).text
    assert "Halter vorbestraft?" in detail and "Wir melden uns bald." in detail
    assert client.post(_url(submission, "notes"), data={"note-note": "  "}).status_code == 400
    kinds = [event.kind for event in _fresh(submission).events]
    assert kinds == [EventKind.NOTE, EventKind.MESSAGE]
    assert _fresh(submission).version == submission.version  # notes and messages overwrite nothing
    assert AuditAction.SUBMISSION_NOTE_ADDED in _audit_actions(submission.reference)


def test_assign_to_me_to_a_colleague_and_to_nobody(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    colleague = make_user(Role.CLERK, commune=place.commune, offices=[place.office], name="Kollege Kunz")
    submission = make_submission(service, place.commune, place.office)
    log_in(client, clerk)
    detail = client.get(_url(submission)).text
    assert "Mir zuweisen" in detail and "Kollege Kunz" in detail

    def assign(value: str) -> int:
        version = _fresh(submission).version
        return client.post(
            _url(submission, "assign"), data={"assign-version": version, "assign-assignee": value}
        ).status_code

    assert assign(str(clerk.id)) == 302 and _fresh(submission).assignee_id == clerk.id
    assert "Mir zuweisen" not in client.get(_url(submission)).text
    assert assign(str(colleague.id)) == 302 and _fresh(submission).assignee_id == colleague.id
    assert assign("none") == 302 and _fresh(submission).assignee_id is None
    texts = [event.text for event in _fresh(submission).events]
    assert texts == ["Zugewiesen an Karla Klerk", "Zugewiesen an Kollege Kunz", "Zuweisung aufgehoben"]
    assert _audit_actions(submission.reference).count(AuditAction.SUBMISSION_ASSIGNED) == 3


def test_only_colleagues_who_may_see_the_office_can_be_assigned(
    client: FlaskClient, service: ServiceSpec, place: Place, foreign: Place, clerk: User
) -> None:
    other_office = make_user(Role.CLERK, commune=place.commune, offices=[place.other_office], name="Bau Bert")
    other_commune = make_user(
        Role.CLERK, commune=foreign.commune, offices=[foreign.office], name="Fremd Fritz"
    )
    editor = make_user(Role.EDITOR, commune=place.commune, name="Redakteurin Rita")
    inactive = make_user(
        Role.CLERK, commune=place.commune, offices=[place.office], active=False, name="Alt Anton"
    )
    admin = make_user(Role.COMMUNE_ADMIN, commune=place.commune, name="Chefin Carla")
    submission = make_submission(service, place.commune, place.office)
    assert [user.name for user in services.assignable_users(submission)] == ["Chefin Carla", "Karla Klerk"]
    log_in(client, clerk)
    for user in (other_office, other_commune, editor, inactive):
        response = client.post(
            _url(submission, "assign"),
            data={"assign-version": submission.version, "assign-assignee": str(user.id)},
        )
        assert response.status_code == 400, user.name
    assert _fresh(submission).assignee_id is None
    with pytest.raises(WorkflowError):
        services.assign(
            submission, other_office, expected_version=submission.version, origin=Origin(user=clerk)
        )
    assert admin.id in {user.id for user in services.assignable_users(submission)}


def test_two_clerks_on_one_submission_the_second_gets_a_clear_message(
    app: Flask, service: ServiceSpec, place: Place, clerk: User
) -> None:
    colleague = make_user(Role.CLERK, commune=place.commune, offices=[place.office], name="Kollege Kunz")
    submission = make_submission(service, place.commune, place.office, status=S.IN_PROGRESS)
    first, second = app.test_client(), app.test_client()
    log_in(first, clerk)
    log_in(second, colleague)
    versions = []
    for client in (first, second):
        page = client.get(_url(submission)).text
        found = re.search(r'name="status-version" type="hidden" value="(\d+)"', page)
        assert found is not None
        versions.append(int(found.group(1)))
    assert versions[0] == versions[1]
    assert _post_status(first, submission, S.COMPLETED.value, version=versions[0]).status_code == 302
    late = _post_status(second, submission, S.REJECTED.value, "Abgelehnt!", version=versions[1])
    assert late.status_code == 409
    assert (
        "Dieser Antrag wurde inzwischen von Karla Klerk geändert. Bitte prüfen Sie den aktuellen Stand."
        in late.text
    )
    fresh = _fresh(submission)
    assert fresh.status is S.COMPLETED and [e.to_status for e in fresh.events] == [S.COMPLETED]
    stale_assign = second.post(
        _url(submission, "assign"), data={"assign-version": versions[1], "assign-assignee": str(colleague.id)}
    )
    assert stale_assign.status_code == 409 and _fresh(submission).assignee_id is None


def test_a_concurrent_update_between_check_and_write_is_caught_by_the_version_column(
    service: ServiceSpec, place: Place, clerk: User
) -> None:
    submission = make_submission(service, place.commune, place.office, status=S.IN_PROGRESS)
    seen = submission.version
    # Another process commits in between; this session's copy still shows the old version.
    with db.engine.begin() as connection:
        connection.execute(
            update(Submission)
            .where(Submission.id == submission.id)
            .values(version=Submission.version + 1, status=S.WAITING)
        )
    with pytest.raises(StaleSubmission):
        services.change_status(submission, S.COMPLETED, expected_version=seen, origin=Origin(user=clerk))
    db.session.rollback()
    assert _fresh(submission).status is S.WAITING
    assert db.session.scalars(select(SubmissionEvent)).all() == []


def test_posts_need_a_csrf_token(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User, app_config: Config
) -> None:
    submission = make_submission(service, place.commune, place.office)
    log_in(client, clerk)
    app_config["WTF_CSRF_ENABLED"] = True
    for action, data in (
        ("status", {"status-version": submission.version, "status-status": "in_progress"}),
        ("assign", {"assign-version": submission.version, "assign-assignee": str(clerk.id)}),
        ("notes", {"note-note": "x"}),
        ("messages", {"message-message": "x"}),
    ):
        assert client.post(_url(submission, action), data=data).status_code == 400, action
    assert _fresh(submission).events == []
    page = client.get(_url(submission)).text
    token = re.search(r'name="status-csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = client.post(
        _url(submission, "status"),
        data={
            "status-csrf_token": token.group(1),
            "status-version": submission.version,
            "status-status": "in_progress",
        },
    )
    assert response.status_code == 302 and _fresh(submission).status is S.IN_PROGRESS


def test_an_expired_session_leads_to_login_and_back_to_the_submission(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User, app_config: Config
) -> None:
    app_config["SESSION_IDLE_MINUTES"] = 30
    submission = make_submission(service, place.commune, place.office)
    log_in(client, clerk)
    with client.session_transaction() as session:
        session[LAST_SEEN_KEY] = int(time.time()) - 31 * 60
    expired = client.get(_url(submission))
    assert expired.status_code == 302
    assert expired.headers["Location"] == f"/staff/login?next={_url(submission)}"
    back = log_in(client, clerk, next=_url(submission))
    assert back.headers["Location"] == _url(submission)
    assert client.get(back.headers["Location"]).status_code == 200
