"""What the submitter sees: the confirmation (after the commit only), the PDF, the status page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import make_commune
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from submission_builders import Setting, make_draft, offer_service, serving_service, write_test_form

from app import create_app
from app.catalogue.services import EXTENSION_KEY
from app.extensions import db, limiter
from app.storage import blob_store
from app.submissions.drafts import DRAFT_COOKIE
from app.submissions.models import EventKind, Submission, SubmissionEvent
from app.submissions.services import submit_draft
from app.submissions.status import content_disposition
from app.timeutil import utcnow


@pytest.fixture
def setting(app: Flask, tmp_path: Path) -> Iterator[Setting]:
    with serving_service(app, write_test_form(tmp_path / "forms")) as service:
        yield offer_service(service)


def _status_path(submission: Submission, token: str | None) -> str:
    path = f"/{submission.commune.slug}/status/{submission.reference}"
    return path if token is None else f"{path}?token={token}"


def _check_path(setting: Setting) -> str:
    return f"/{setting.commune.slug}/services/{setting.service.slug}/check"


def _submissions() -> int:
    return db.session.scalar(select(func.count()).select_from(Submission)) or 0


def test_status_page_shows_status_time_and_only_the_messages_meant_for_the_citizen(
    setting: Setting, client: FlaskClient
) -> None:
    outcome = submit_draft(make_draft(setting)[0], locale="de")
    submission = db.session.get(Submission, outcome.submission.id)
    db.session.add_all(
        [
            SubmissionEvent(
                submission_id=submission.id,
                kind=EventKind.MESSAGE,
                text="Bitte reichen Sie den Nachweis im Original nach.",
                visible_to_citizen=True,
                created_at=utcnow(),
            ),
            SubmissionEvent(
                submission_id=submission.id,
                kind=EventKind.NOTE,
                text="Interne Notiz: Rückruf vereinbart.",
                visible_to_citizen=False,
                created_at=utcnow(),
            ),
        ]
    )
    db.session.commit()

    response = client.get(_status_path(submission, outcome.token))

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert submission.reference in body
    assert "Eingegangen" in body
    assert "Bitte reichen Sie den Nachweis im Original nach." in body
    assert "Interne Notiz" not in body
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_wrong_or_missing_token_answers_exactly_like_an_unknown_reference(
    setting: Setting, client: FlaskClient
) -> None:
    outcome = submit_draft(make_draft(setting)[0], locale="de")
    submission = outcome.submission
    unknown = client.get(f"/{setting.commune.slug}/status/XXX-2026-999999?token={outcome.token}")
    wrong = client.get(_status_path(submission, outcome.token[:-2] + "xx"))
    missing = client.get(_status_path(submission, None))
    empty = client.get(_status_path(submission, ""))

    assert {unknown.status_code, wrong.status_code, missing.status_code, empty.status_code} == {404}
    # The same page, apart from the links to this very address in other languages.
    pages = {re.sub(r'href="[^"]*"', "", r.get_data(as_text=True)) for r in (unknown, wrong, missing, empty)}
    assert len(pages) == 1
    assert client.get(_status_path(submission, outcome.token)).status_code == 200


def test_the_token_of_one_commune_opens_nothing_in_another(setting: Setting, client: FlaskClient) -> None:
    outcome = submit_draft(make_draft(setting)[0], locale="de")
    other = offer_service(setting.service, commune=make_commune())

    reference = outcome.submission.reference
    response = client.get(f"/{other.commune.slug}/status/{reference}?token={outcome.token}")

    assert response.status_code == 404


def test_pdf_download_serves_the_stored_bytes_as_an_attachment(setting: Setting, client: FlaskClient) -> None:
    outcome = submit_draft(make_draft(setting)[0], locale="de")
    submission = db.session.get(Submission, outcome.submission.id)

    response = client.get(_status_path(submission, None) + f"/pdf?token={outcome.token}")
    denied = client.get(_status_path(submission, None) + "/pdf?token=wrong")

    assert response.status_code == 200
    assert response.get_data() == blob_store().read(submission.pdf_key)
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{submission.reference}.pdf"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert denied.status_code == 404


def test_download_names_are_sanitised_and_keep_umlauts_in_filename_star() -> None:
    assert content_disposition("Nachweis für Jürgen.png") == (
        "attachment; filename=\"Nachweis_fur_Jurgen.png\"; "
        "filename*=UTF-8''Nachweis%20f%C3%BCr%20J%C3%BCrgen.png"
    )
    assert content_disposition("../../etc/passwd") == 'attachment; filename="passwd"'
    assert content_disposition('a"b\r\n.pdf').startswith('attachment; filename="a_b_.pdf"')


def _browser_with_draft(client: FlaskClient, token: str) -> FlaskClient:
    client.set_cookie(DRAFT_COOKIE, token)
    return client


def test_submit_redirects_to_a_confirmation_that_a_reload_does_not_resubmit(
    setting: Setting, client: FlaskClient
) -> None:
    _, token = make_draft(setting)
    browser = _browser_with_draft(client, token)

    response = browser.post(_check_path(setting))

    assert response.status_code == 303
    submission = db.session.scalars(select(Submission)).one()
    assert response.location.endswith(f"/{setting.commune.slug}/status/{submission.reference}/confirmation")
    page = browser.get(response.location)
    reload = browser.get(response.location)
    assert page.status_code == reload.status_code == 200
    body = page.get_data(as_text=True)
    assert submission.reference in body
    assert "etwa zwei Wochen" in body  # what happens next: the service's processing time
    assert "ordnungsamt@example.org" in body  # the office's contact
    assert f"/status/{submission.reference}/pdf?token=" in body
    assert f"/status/{submission.reference}?token=" in body
    assert page.headers["Cache-Control"] == "no-store"
    assert _submissions() == 1

    again = browser.post(_check_path(setting))  # Back and submit again
    assert again.status_code == 303 and again.location == response.location
    assert _submissions() == 1
    assert f"/status/{submission.reference}?token=" in browser.get(again.location).get_data(as_text=True)


def test_confirmation_is_only_for_the_browser_that_submitted(
    setting: Setting, client: FlaskClient, app: Flask
) -> None:
    _, token = make_draft(setting)
    location = _browser_with_draft(client, token).post(_check_path(setting)).location

    stranger = app.test_client()
    assert stranger.get(location).status_code == 404

    # A second request of the same double click, from a browser that never got the first
    # answer's session, sees the confirmation without the secret links.
    twin = _browser_with_draft(app.test_client(), token)
    second = twin.post(_check_path(setting))
    assert second.status_code == 303 and second.location == location
    body = twin.get(location).get_data(as_text=True)
    assert "token=" not in body
    assert db.session.scalars(select(Submission)).one().reference in body


def test_submit_is_rate_limited_per_client(setting: Setting, app: Flask) -> None:
    overrides = {
        key: app.config[key]
        for key in ("SQLALCHEMY_DATABASE_URI", "STORAGE_DIR", "TESTING", "WTF_CSRF_ENABLED", "MAIL_ENABLED")
    }
    limited = create_app(
        {
            **overrides,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "SUBMIT_RATE_LIMIT": "2 per minute",
            "DEMO_MODE": False,
        }
    )
    limited.extensions[EXTENSION_KEY] = app.extensions[EXTENSION_KEY]
    try:
        limiter.reset()
        browser = limited.test_client()
        codes = []
        for _ in range(3):
            _, token = make_draft(setting)
            codes.append(_browser_with_draft(browser, token).post(_check_path(setting)).status_code)
        other_client = limited.test_client()
        _, token = make_draft(setting)
        from_elsewhere = _browser_with_draft(other_client, token).post(
            _check_path(setting), environ_base={"REMOTE_ADDR": "192.0.2.7"}
        )
    finally:
        limiter.reset()
        limiter.enabled = False

    assert codes == [303, 303, 429]
    assert from_elsewhere.status_code == 303
    assert _submissions() == 3


def test_confirmation_gives_the_status_link_on_the_public_address(
    setting: Setting, client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://portal.example")
    _, token = make_draft(setting)
    browser = _browser_with_draft(client, token)

    body = browser.get(browser.post(_check_path(setting)).location).get_data(as_text=True)

    reference = db.session.scalars(select(Submission)).one().reference
    assert f'href="https://portal.example/{setting.commune.slug}/status/{reference}?token=' in body
