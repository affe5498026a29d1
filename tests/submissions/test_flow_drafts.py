"""Drafts in the flow: browser restart, resume link, a new app instance, a changed form,
"save and continue later" by e-mail, and the submit step on the check page."""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from submission_builders import PROBE, PROBE_YAML, Site, make_site, serving, write_probe_forms
from werkzeug.test import TestResponse

from app import create_app
from app.extensions import db
from app.formspec import Catalogue
from app.submissions.drafts import DRAFT_COOKIE
from app.submissions.models import Draft, Submission
from app.timeutil import utcnow

PERSON = {"name": "Erika Mustermann", "email": "erika@example.org", "rolle": "privat"}


@pytest.fixture
def forms_dir(tmp_path: Path) -> Path:
    return write_probe_forms(tmp_path / "forms")


@pytest.fixture
def catalogue(app: Flask, forms_dir: Path) -> Iterator[Catalogue]:
    with serving(app, forms_dir) as served:
        yield served


@pytest.fixture
def site(catalogue: Catalogue) -> Site:
    return make_site(catalogue)


def url(site: Site, path: str = "") -> str:
    return f"{site.base}/{PROBE}{path}"


def location(response: TestResponse) -> str:
    assert response.status_code in (302, 303), response.status_code
    return response.headers["Location"]


def draft_token(response: TestResponse) -> str:
    match = re.search(rf"{DRAFT_COOKIE}=([^;]+)", response.headers["Set-Cookie"])
    assert match
    return match.group(1)


def only_draft() -> Draft:
    drafts = list(db.session.scalars(select(Draft)))
    assert len(drafts) == 1
    db.session.refresh(drafts[0])
    return drafts[0]


def fill_all(client: FlaskClient, site: Site) -> None:
    client.post(url(site, "/apply/person"), data=PERSON)
    client.post(url(site, "/apply/anliegen"), data={"art": "laerm"})
    assert location(client.post(url(site, "/apply/abschluss"), data={"datenschutz": "y"})).endswith("/check")


def submission_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Submission)) or 0


def test_only_the_tokens_hash_is_stored(client: FlaskClient, site: Site) -> None:
    token = draft_token(client.post(url(site, "/apply/person"), data=PERSON))
    draft = only_draft()
    assert len(token) >= 43
    assert draft.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(draft.answers)


def test_draft_survives_a_browser_restart(app: Flask, client: FlaskClient, site: Site) -> None:
    token = draft_token(client.post(url(site, "/apply/person"), data=PERSON))
    restarted = app.test_client()
    restarted.set_cookie(DRAFT_COOKIE, token, path=url(site))
    assert location(restarted.get(url(site, "/apply"))).endswith("/apply/anliegen")
    assert 'value="Erika Mustermann"' in restarted.get(url(site, "/apply/person")).get_data(as_text=True)


def test_resume_link_opens_the_draft_in_another_browser_and_restores_the_cookie(
    app: Flask, client: FlaskClient, site: Site
) -> None:
    response = client.post(url(site, "/apply/person"), data={**PERSON, "action": "save"})
    assert location(response).endswith("/save")
    page = client.get(url(site, "/save")).get_data(as_text=True)
    assert "<h1>Ihre Angaben sind gespeichert</h1>" in page
    link = re.search(r'<p class="resume-link"><a href="([^"]+)">', page).group(1)
    assert "resume=" in link
    other = app.test_client()
    response = other.get(link.replace("&amp;", "&"))
    assert location(response).endswith("/apply/anliegen")
    assert f"Path=/teststadt/services/{PROBE}" in response.headers["Set-Cookie"]
    assert location(other.get(url(site, "/apply"))).endswith("/apply/anliegen")


def test_save_validates_the_step_before_saving(client: FlaskClient, site: Site) -> None:
    response = client.post(url(site, "/apply/person"), data={"action": "save"})
    assert "Fehler:" in response.get_data(as_text=True)
    assert location(client.get(url(site, "/save"))).endswith("/apply")


def test_an_unknown_or_expired_resume_link_says_so(client: FlaskClient, site: Site) -> None:
    response = client.get(url(site, "/apply?resume=nicht-gueltig"))
    assert response.status_code == 404
    assert "Dieser Link ist nicht mehr gültig" in response.get_data(as_text=True)
    token = draft_token(client.post(url(site, "/apply/person"), data=PERSON))
    draft = only_draft()
    draft.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(url(site, f"/apply?resume={token}")).status_code == 404
    assert "Antrag fortsetzen" not in client.get(url(site)).get_data(as_text=True)
    assert location(client.get(url(site, "/apply/anliegen"))).endswith("/apply/person")


def test_draft_survives_a_new_app_instance(
    app: Flask, client: FlaskClient, site: Site, forms_dir: Path
) -> None:
    token = draft_token(client.post(url(site, "/apply/person"), data=PERSON))
    overrides = {
        key: app.config[key]
        for key in (
            "TESTING",
            "SQLALCHEMY_DATABASE_URI",
            "STORAGE_DIR",
            "WTF_CSRF_ENABLED",
            "RATELIMIT_ENABLED",
        )
    }
    fresh = create_app({**overrides, "FORMS_DIR": str(forms_dir), "MAIL_ENABLED": False})
    try:
        with fresh.app_context():
            restarted = fresh.test_client()
            restarted.set_cookie(DRAFT_COOKIE, token, path=url(site))
            assert location(restarted.get(url(site, "/apply"))).endswith("/apply/anliegen")
    finally:
        with fresh.app_context():
            db.session.remove()
            db.engine.dispose()


def test_resume_link_is_emailed_on_request(
    client: FlaskClient, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[EmailMessage] = []
    monkeypatch.setattr(
        "app.delivery.mail.deliver_message", lambda message, **_: sent.append(message) or True
    )
    token = draft_token(client.post(url(site, "/apply/person"), data=PERSON))
    response = client.post(url(site, "/save"), data={"email": "kein-at-zeichen"})
    assert "Fehler:" in response.get_data(as_text=True)
    assert sent == []
    response = client.post(url(site, "/save"), data={"email": "erika@example.org"})
    assert "Wir haben den Link an erika@example.org gesendet." in response.get_data(as_text=True)
    assert len(sent) == 1
    assert sent[0]["To"] == "erika@example.org"
    assert f"resume={token}" in sent[0].get_content()
    assert only_draft().resume_email == "erika@example.org"


def test_a_changed_form_sends_the_citizen_through_the_steps_again(
    app: Flask, client: FlaskClient, site: Site, tmp_path: Path
) -> None:
    fill_all(client, site)
    changed = PROBE_YAML.replace(
        "            - name: rolle\n",
        "            - name: telefon\n              type: phone\n              label: Telefon\n"
        "            - name: rolle\n",
    )
    new_dir = write_probe_forms(tmp_path / "forms-v2", {f"catalogue/{PROBE}.yaml": changed})
    with serving(app, new_dir) as catalogue:
        assert location(client.get(url(site, "/check"))).endswith("/apply/person")
        draft = only_draft()
        assert draft.form_version == catalogue.services[PROBE].version
        assert draft.completed_steps == []
        assert draft.answers["name"] == "Erika Mustermann"
        page = client.get(url(site, "/apply/person")).get_data(as_text=True)
        assert 'value="Erika Mustermann"' in page and 'name="telefon"' in page
        client.post(url(site, "/apply/person"), data={**PERSON, "telefon": "030 123456"})
        client.post(url(site, "/apply/anliegen"), data={"art": "laerm"})
        client.post(url(site, "/apply/abschluss"), data={"datenschutz": "y"})
        assert client.get(url(site, "/check")).status_code == 200


def test_submit_without_the_pipeline_keeps_the_check_page_with_a_message(
    client: FlaskClient, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_all(client, site)
    monkeypatch.setitem(sys.modules, "app.submissions.services", None)
    response = client.post(url(site, "/check"))
    assert response.status_code == 503
    assert "Das Absenden ist noch nicht möglich" in response.get_data(as_text=True)
    assert submission_count() == 0


def test_a_filled_honeypot_is_not_submitted(
    client: FlaskClient, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_all(client, site)
    monkeypatch.setattr(
        "app.submissions.services.submit_draft", lambda *a, **k: pytest.fail("bot post reached the pipeline")
    )
    response = client.post(url(site, "/check"), data={"website": "http://spam.example"})
    assert response.status_code == 200
    assert "Ihr Antrag wurde nicht abgesendet" in response.get_data(as_text=True)
    assert submission_count() == 0
    assert only_draft().submission_id is None


def test_submit_with_missing_answers_goes_back_to_the_step(client: FlaskClient, site: Site) -> None:
    fill_all(client, site)
    draft = only_draft()
    draft.answers = {k: v for k, v in draft.answers.items() if k != "art"}
    db.session.commit()
    assert location(client.post(url(site, "/check"))).endswith("/apply/anliegen")
    assert submission_count() == 0


def test_submit_hands_the_draft_to_the_pipeline_once(client: FlaskClient, site: Site) -> None:
    fill_all(client, site)
    first = client.post(url(site, "/check"))
    assert first.status_code == 303
    assert "/teststadt/status/" in first.headers["Location"]
    again = client.post(url(site, "/check"))
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert submission_count() == 1
    assert location(client.get(url(site, "/check"))).endswith("/apply")
    assert location(client.get(url(site, "/apply"))).endswith("/apply/person")
