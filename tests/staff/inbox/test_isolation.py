"""The isolation matrix: every route of the inbox blueprint, called with another office's and
another commune's objects, answers 404 and reveals nothing (and changes and records nothing)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from delivery.builders import Channels
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from submission_builders import Place, inbox_answers, make_submission, with_file
from werkzeug.routing import Rule

from app.delivery.services import enqueue_deliveries
from app.extensions import db
from app.formspec import ServiceSpec
from app.staff.models import AuditAction, AuditEntry, Role, User
from app.submissions.models import Submission, SubmissionEvent
from staff.builders import log_in, make_user


@dataclass
class Target:
    """The objects a route is called with: their commune and office, a submission, its files."""

    commune_slug: str
    office_id: int
    submission: Submission
    attachment_id: int
    delivery_id: int


def _target(service: ServiceSpec, place: Place, *, other_office: bool) -> Target:
    office = place.other_office if other_office else place.office
    submission = make_submission(
        service,
        place.commune,
        office,
        with_file(inbox_answers(name="Geheime Gisela", email="gisela@geheim.example")),
    )
    (delivery,) = enqueue_deliveries(submission, Channels(email_to="amt@example.org"), office)
    db.session.commit()
    return Target(place.commune.slug, office.id, submission, submission.attachments[0].id, delivery.id)


def inbox_rules(app: Flask) -> list[Rule]:
    """Every URL rule of the inbox blueprint, from the application's URL map."""
    return sorted(
        (rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("staff_inbox.")),
        key=lambda rule: rule.rule,
    )


def _calls(app: Flask, target: Target) -> list[tuple[str, str, dict[str, str]]]:
    """(method, url, form data) for every inbox route, aimed at ``target``."""
    adapter = app.url_map.bind("localhost")
    values = {
        "commune": target.commune_slug,
        "reference": target.submission.reference,
        "attachment_id": target.attachment_id,
        "delivery_id": target.delivery_id,
        "fmt": "csv",
    }
    version = str(target.submission.version)
    data = {
        "status-version": version,
        "status-status": "in_progress",
        "status-message": "Hallo",
        "assign-version": version,
        "assign-assignee": "none",
        "note-note": "Notiz",
        "message-message": "Nachricht",
    }
    calls = []
    for rule in inbox_rules(app):
        url = adapter.build(rule.endpoint, {key: values[key] for key in rule.arguments})
        if "reference" not in rule.arguments:
            url += f"?office={target.office_id}&service=inboxtest"
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            calls.append((method, url, data if method == "POST" else {}))
    return calls


def test_the_matrix_covers_every_route_of_the_blueprint(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in inbox_rules(app)}
    assert endpoints == {
        "staff_inbox.inbox",
        "staff_inbox.export_list",
        "staff_inbox.detail",
        "staff_inbox.pdf",
        "staff_inbox.data_json",
        "staff_inbox.attachment",
        "staff_inbox.export_zip",
        "staff_inbox.change_status",
        "staff_inbox.assign",
        "staff_inbox.add_note",
        "staff_inbox.send_message",
        "staff_inbox.retry_delivery",
    }


GHOST_REFERENCE = "ZZZ-2026-999999"


def _assert_all_404(client: FlaskClient, app: Flask, target: Target) -> None:
    """Each call answers 404 with the very page a reference that does not exist gets."""
    ghost = Target(target.commune_slug, 999999, target.submission, 999998, 999997)
    calls = _calls(app, target)
    ghost_calls = _calls(app, ghost)
    reference = target.submission.reference
    for (method, url, data), (_method, ghost_url, _data) in zip(calls, ghost_calls, strict=True):
        response = client.open(url, method=method, data=data)
        assert response.status_code == 404, (method, url, response.status_code)
        body = response.get_data(as_text=True)
        for secret in ("Geheime Gisela", "gisela@geheim.example"):
            assert secret not in body, (method, url, secret)
        ghost_url = ghost_url.replace(reference, GHOST_REFERENCE)
        ghost_response = client.open(ghost_url, method=method, data=data)
        assert ghost_response.status_code == 404, ghost_url
        assert _neutral(body, url) == _neutral(ghost_response.get_data(as_text=True), ghost_url)
    fresh = db.session.get(Submission, target.submission.id, populate_existing=True)
    assert fresh is not None and fresh.version == target.submission.version
    assert db.session.scalar(select(func.count()).select_from(SubmissionEvent)) == 0
    recorded = set(db.session.scalars(select(AuditEntry.action)))
    assert recorded <= {AuditAction.LOGIN}


def _neutral(body: str, url: str) -> str:
    # The page names its own address (language links); everything else must be the same.
    return body.replace(url.replace("&", "&amp;"), "URL").replace(url.split("?")[0], "URL")


@pytest.fixture
def clerk_a(place: Place) -> User:
    return make_user(Role.CLERK, commune=place.commune, offices=[place.office])


def test_a_clerk_gets_404_for_every_route_with_another_office_s_objects(
    client: FlaskClient, app: Flask, service: ServiceSpec, place: Place, clerk_a: User
) -> None:
    target = _target(service, place, other_office=True)
    log_in(client, clerk_a)
    _assert_all_404(client, app, target)


def test_a_clerk_gets_404_for_every_route_with_another_commune_s_objects(
    client: FlaskClient, app: Flask, service: ServiceSpec, place: Place, foreign: Place, clerk_a: User
) -> None:
    target = _target(service, foreign, other_office=False)
    log_in(client, clerk_a)
    _assert_all_404(client, app, target)


def test_a_commune_admin_gets_404_for_every_route_with_another_commune_s_objects(
    client: FlaskClient, app: Flask, service: ServiceSpec, place: Place, foreign: Place
) -> None:
    target = _target(service, foreign, other_office=False)
    log_in(client, make_user(Role.COMMUNE_ADMIN, commune=place.commune))
    _assert_all_404(client, app, target)


def test_another_commune_s_reference_under_the_own_commune_is_404(
    client: FlaskClient, app: Flask, service: ServiceSpec, place: Place, foreign: Place
) -> None:
    foreign_target = _target(service, foreign, other_office=False)
    own = _target(service, place, other_office=False)
    # The own commune's slug with the foreign commune's reference and object ids.
    mixed = Target(
        place.commune.slug,
        own.office_id,
        foreign_target.submission,
        foreign_target.attachment_id,
        foreign_target.delivery_id,
    )
    log_in(client, make_user(Role.COMMUNE_ADMIN, commune=place.commune))
    for method, url, data in _calls(app, mixed):
        if "/submissions/" in url:
            assert client.open(url, method=method, data=data).status_code == 404, (method, url)


def test_the_own_objects_are_reachable_so_the_matrix_is_not_vacuous(
    client: FlaskClient, app: Flask, service: ServiceSpec, place: Place, clerk_a: User
) -> None:
    target = _target(service, place, other_office=False)
    log_in(client, clerk_a)
    for method, url, _data in _calls(app, target):
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
    assert (
        client.post(
            f"/staff/{place.commune.slug}/submissions/{target.submission.reference}/notes",
            data={"note-note": "x"},
        ).status_code
        == 302
    )


def test_anonymous_visitors_are_sent_to_login_from_every_route(
    client: FlaskClient, app: Flask, service: ServiceSpec, place: Place
) -> None:
    target = _target(service, place, other_office=False)
    for method, url, data in _calls(app, target):
        response = client.open(url, method=method, data=data)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"], (method, url)


def test_an_editor_of_the_commune_sees_no_submissions(
    client: FlaskClient, app: Flask, service: ServiceSpec, place: Place
) -> None:
    target = _target(service, place, other_office=False)
    log_in(client, make_user(Role.EDITOR, commune=place.commune))
    for method, url, data in _calls(app, target):
        response = client.open(url, method=method, data=data)
        assert response.status_code in (403, 404), (method, url)
        assert "Geheime Gisela" not in response.get_data(as_text=True)
