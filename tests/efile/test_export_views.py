"""Staff export as xdomea: one submission from its e-file page, a selection from the inbox list;
audited, refused with a message without a PDF, invisible (404) to other offices and communes."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from staff.builders import log_in, make_user
from submission_builders import Place, make_submission

from app.extensions import db
from app.formspec import ServiceSpec
from app.staff.models import AuditAction, AuditEntry, Role, User

from .builders import NS, assert_valid, read_zip


def _exports() -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == AuditAction.SUBMISSION_EXPORTED)
            .order_by(AuditEntry.id)
        )
    )


def test_page_offers_the_export_and_the_post_downloads_a_valid_package_audited(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    submission = make_submission(service, place.commune, place.office)
    log_in(client, clerk)
    base = f"/staff/{place.commune.slug}/submissions/{submission.reference}/efile"
    page = client.get(base)
    assert page.status_code == 200
    assert "xdomea-Paket herunterladen" in page.text

    response = client.post(f"{base}/export")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    disposition = response.headers["Content-Disposition"]
    match = re.fullmatch(r'attachment; filename="([0-9a-f-]{36})_Abgabe.Abgabe.0401.zip"', disposition)
    assert match, disposition
    files = read_zip(response.data)
    root = assert_valid(files[f"{match.group(1)}_Abgabe.Abgabe.0401.xml"])
    assert root.xpath("x:Kopf/x:ProzessID/text()", namespaces=NS) == [match.group(1)]
    (entry,) = _exports()
    assert entry.actor_id == clerk.id and entry.object_id == submission.reference
    assert entry.details["format"] == "xdomea" and entry.details["process_id"] == match.group(1)


def test_selection_from_the_inbox_exports_one_package_and_audits_each_submission(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    first = make_submission(service, place.commune, place.office)
    second = make_submission(service, place.commune, place.office)
    log_in(client, clerk)
    response = client.post(
        f"/staff/{place.commune.slug}/efile/export", data={"reference": [first.reference, second.reference]}
    )
    assert response.status_code == 200
    files = read_zip(response.data)
    message = next(name for name in files if name.endswith("_Abgabe.Abgabe.0401.xml"))
    root = assert_valid(files[message])
    kennzeichen = root.xpath(
        "x:Schriftgutobjekt/x:Akte/x:AllgemeineMetadaten/x:Kennzeichen/text()", namespaces=NS
    )
    assert kennzeichen == [first.reference, second.reference]
    entries = _exports()
    assert [entry.object_id for entry in entries] == [first.reference, second.reference]
    assert len({entry.details["process_id"] for entry in entries}) == 1


def test_without_pdf_the_export_is_refused_with_a_message_and_nothing_audited(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    ready = make_submission(service, place.commune, place.office)
    waiting = make_submission(service, place.commune, place.office, pdf=None)
    log_in(client, clerk)
    one = client.post(f"/staff/{place.commune.slug}/submissions/{waiting.reference}/efile/export")
    assert one.status_code == 409
    assert "PDF" in one.text and waiting.reference in one.text
    several = client.post(
        f"/staff/{place.commune.slug}/efile/export",
        data={"reference": [ready.reference, waiting.reference]},
        follow_redirects=True,
    )
    assert several.request.path == f"/staff/{place.commune.slug}/inbox"
    assert "noch nicht erzeugt" in several.text and waiting.reference in several.text
    assert _exports() == []


def test_other_office_and_other_commune_get_404(
    client: FlaskClient, service: ServiceSpec, place: Place, foreign: Place
) -> None:
    submission = make_submission(service, place.commune, place.office)
    other_office = make_user(Role.CLERK, commune=place.commune, offices=[place.other_office])
    log_in(client, other_office)
    own = f"/staff/{place.commune.slug}"
    assert client.get(f"{own}/submissions/{submission.reference}/efile").status_code == 404
    assert client.post(f"{own}/submissions/{submission.reference}/efile/export").status_code == 404
    assert client.post(f"{own}/efile/export", data={"reference": [submission.reference]}).status_code == 404

    stranger = make_user(Role.COMMUNE_ADMIN, commune=foreign.commune)
    client.post("/staff/logout")
    log_in(client, stranger)
    assert client.get(f"{own}/submissions/{submission.reference}/efile").status_code == 404
    assert client.post(f"{own}/submissions/{submission.reference}/efile/export").status_code == 404
    theirs = f"/staff/{foreign.commune.slug}/efile/export"
    assert client.post(theirs, data={"reference": [submission.reference]}).status_code == 404
    assert _exports() == []


def test_export_posts_need_a_csrf_token(
    app: Flask,
    client: FlaskClient,
    service: ServiceSpec,
    place: Place,
    clerk: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    submission = make_submission(service, place.commune, place.office)
    log_in(client, clerk)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post(f"/staff/{place.commune.slug}/submissions/{submission.reference}/efile/export")
    assert response.status_code == 400
    selection = client.post(
        f"/staff/{place.commune.slug}/efile/export", data={"reference": [submission.reference]}
    )
    assert selection.status_code == 400
    assert _exports() == []


def test_empty_selection_returns_to_the_inbox_with_a_message(
    client: FlaskClient, place: Place, clerk: User
) -> None:
    log_in(client, clerk)
    response = client.post(f"/staff/{place.commune.slug}/efile/export", data={}, follow_redirects=True)
    assert response.request.path == f"/staff/{place.commune.slug}/inbox"
    assert "Es ist kein Antrag ausgewählt." in response.text
    assert _exports() == []


def test_page_of_a_submission_without_pdf_says_the_export_must_wait(
    client: FlaskClient, service: ServiceSpec, place: Place, clerk: User
) -> None:
    waiting = make_submission(service, place.commune, place.office, pdf=None)
    log_in(client, clerk)
    page = client.get(f"/staff/{place.commune.slug}/submissions/{waiting.reference}/efile")
    assert page.status_code == 200
    assert "noch nicht erzeugt" in page.text and "xdomea-Paket herunterladen" not in page.text
