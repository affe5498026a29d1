"""The citizen's way through a form: steps, conditions, uploads, errors, Back/Change, check."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from submission_builders import PROBE, Site, make_site, png_bytes, serving, upload, write_probe_forms
from werkzeug.test import TestResponse

from app.extensions import db
from app.formspec import Catalogue
from app.storage import blob_store
from app.submissions.drafts import DRAFT_COOKIE
from app.submissions.models import Draft

PERSON = {"name": "Erika Mustermann", "email": "erika@example.org", "rolle": "privat"}


@pytest.fixture
def catalogue(app: Flask, tmp_path: Path) -> Iterator[Catalogue]:
    with serving(app, write_probe_forms(tmp_path / "forms")) as served:
        yield served


@pytest.fixture
def site(catalogue: Catalogue) -> Site:
    return make_site(catalogue)


def url(site: Site, path: str = "") -> str:
    return f"{site.base}/{PROBE}{path}"


def location(response: TestResponse) -> str:
    assert response.status_code in (302, 303), response.status_code
    return response.headers["Location"]


def only_draft() -> Draft:
    drafts = list(db.session.scalars(select(Draft)))
    assert len(drafts) == 1
    db.session.refresh(drafts[0])
    return drafts[0]


def draft_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Draft)) or 0


def walk_to_check(
    client: FlaskClient, site: Site, *, firma: bool = False, photo: bytes | None = None
) -> None:
    """Fill every step validly (company step when ``firma``, photo step when ``photo``)."""
    person = {**PERSON, "rolle": "firma" if firma else "privat"}
    client.post(url(site, "/apply/person"), data=person)
    if firma:
        client.post(url(site, "/apply/firma"), data={"firmenname": "Muster GmbH"})
    anliegen: dict[str, Any] = {"art": "muell" if photo else "laerm", "beschreibung": "Seit Tagen."}
    if photo:
        anliegen["bild"] = upload(photo)
    response = client.post(url(site, "/apply/anliegen"), data=anliegen, content_type="multipart/form-data")
    assert location(response).endswith("/apply/abschluss")
    response = client.post(url(site, "/apply/abschluss"), data={"datenschutz": "y"})
    assert location(response).endswith("/check")


def test_start_leads_to_the_first_step_without_creating_a_draft(client: FlaskClient, site: Site) -> None:
    assert location(client.get(url(site, "/apply"))).endswith("/apply/person")
    page = client.get(url(site, "/apply/person")).get_data(as_text=True)
    assert "<h1>Angaben zur Person</h1>" in page
    assert "novalidate" in page
    assert "(Pflichtfeld)" in page and "(optional)" in page
    assert f'<a class="back-link" href="/teststadt/services/{PROBE}">' in page
    assert ">Weiter</button>" in page
    assert "Speichern und später fortsetzen" in page
    assert draft_count() == 0


def test_complete_walk_with_condition_and_upload_reaches_check(client: FlaskClient, site: Site) -> None:
    response = client.post(url(site, "/apply/person"), data={**PERSON, "rolle": "firma"})
    assert location(response).endswith("/apply/firma")
    response = client.post(url(site, "/apply/firma"), data={"firmenname": "Muster GmbH"})
    assert location(response).endswith("/apply/anliegen")
    photo = png_bytes(7)
    response = client.post(
        url(site, "/apply/anliegen"),
        data={"art": "muell", "seit-day": "3", "seit-month": "2", "seit-year": "2024", "bild": upload(photo)},
        content_type="multipart/form-data",
    )
    assert location(response).endswith("/apply/abschluss")
    response = client.post(url(site, "/apply/abschluss"), data={"datenschutz": "y"})
    assert location(response).endswith("/check")

    draft = only_draft()
    assert draft.completed_steps == ["person", "firma", "anliegen", "abschluss"]
    assert draft.answers["firmenname"] == "Muster GmbH"
    assert draft.answers["seit"] == "2024-02-03"
    stored = draft.answers["bild"]
    assert stored["filename"] == "foto.png"
    assert stored["media_type"] == "image/png"
    assert blob_store().read(stored["storage_key"]) == photo

    page = client.get(url(site, "/check")).get_data(as_text=True)
    assert "<h1>Ihre Angaben prüfen</h1>" in page
    assert f'<a class="back-link" href="/teststadt/services/{PROBE}/apply/abschluss">' in page
    for text in ("Erika Mustermann", "Muster GmbH", "foto.png", "Angaben zur Firma", "Ihr Anliegen"):
        assert text in page, text
    assert f'href="/teststadt/services/{PROBE}/apply/firma?return=check"' in page
    assert "Bearbeitungsgebühr" in page and "20,00\xa0€" in page
    assert "5,00\xa0€" in page and "25,00\xa0€" in page
    assert 'name="csrf_token"' in page
    assert re.search(r'<div class="visually-hidden" aria-hidden="true">\s*<label for="website"', page)


def test_errors_show_summary_inline_messages_and_title_prefix(client: FlaskClient, site: Site) -> None:
    response = client.post(url(site, "/apply/person"), data={"name": "", "rolle": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r"<title>Fehler: Angaben zur Person", page)
    assert 'class="error-summary"' in page and "Es gibt ein Problem" in page
    assert 'href="#name"' in page and 'href="#rolle"' in page
    assert 'id="name-error"' in page and 'aria-invalid="true"' in page
    assert draft_count() == 0


def test_answers_survive_a_validation_error(client: FlaskClient, site: Site) -> None:
    client.post(url(site, "/apply/person"), data=PERSON)
    response = client.post(url(site, "/apply/anliegen"), data={"art": "laerm", "beschreibung": "x" * 501})
    page = response.get_data(as_text=True)
    assert "Fehler:" in page
    assert "x" * 501 in page
    assert only_draft().answers["name"] == "Erika Mustermann"
    assert "beschreibung" not in only_draft().answers


def test_back_links_follow_the_visible_steps(client: FlaskClient, site: Site) -> None:
    client.post(url(site, "/apply/person"), data=PERSON)
    page = client.get(url(site, "/apply/anliegen")).get_data(as_text=True)
    assert f'<a class="back-link" href="/teststadt/services/{PROBE}/apply/person">' in page
    client.post(url(site, "/apply/person"), data={**PERSON, "rolle": "firma"})
    client.post(url(site, "/apply/firma"), data={"firmenname": "Muster GmbH"})
    page = client.get(url(site, "/apply/anliegen")).get_data(as_text=True)
    assert f'<a class="back-link" href="/teststadt/services/{PROBE}/apply/firma">' in page


def test_going_back_shows_earlier_answers_prefilled(client: FlaskClient, site: Site) -> None:
    client.post(url(site, "/apply/person"), data=PERSON)
    page = client.get(url(site, "/apply/person")).get_data(as_text=True)
    assert 'value="Erika Mustermann"' in page
    assert re.search(r'value="privat" checked', page)


def test_change_from_check_returns_to_check(client: FlaskClient, site: Site) -> None:
    walk_to_check(client, site)
    page = client.get(url(site, "/apply/person?return=check")).get_data(as_text=True)
    assert f'<a class="back-link" href="/teststadt/services/{PROBE}/check">' in page
    assert f'action="/teststadt/services/{PROBE}/apply/person?return=check"' in page
    response = client.post(
        url(site, "/apply/person?return=check"), data={**PERSON, "name": "Erika Musterfrau"}
    )
    assert location(response).endswith("/check")
    assert "Erika Musterfrau" in client.get(url(site, "/check")).get_data(as_text=True)


def test_change_that_reveals_a_step_goes_there_before_check(client: FlaskClient, site: Site) -> None:
    walk_to_check(client, site)
    response = client.post(url(site, "/apply/person?return=check"), data={**PERSON, "rolle": "firma"})
    assert location(response).endswith("/apply/firma")
    assert location(client.get(url(site, "/check"))).endswith("/apply/firma")
    response = client.post(url(site, "/apply/firma?return=check"), data={"firmenname": "Muster GmbH"})
    assert location(response).endswith("/check")


def test_change_that_hides_a_step_drops_its_answers(client: FlaskClient, site: Site) -> None:
    walk_to_check(client, site, firma=True)
    assert only_draft().answers["firmenname"] == "Muster GmbH"
    response = client.post(url(site, "/apply/person?return=check"), data=PERSON)
    assert location(response).endswith("/check")
    draft = only_draft()
    assert "firmenname" not in draft.answers
    assert "firma" not in draft.completed_steps
    assert "Muster GmbH" not in client.get(url(site, "/check")).get_data(as_text=True)


def test_change_that_hides_an_upload_drops_it_and_deletes_the_unused_file(
    client: FlaskClient, site: Site
) -> None:
    photo = png_bytes(11)
    walk_to_check(client, site, photo=photo)
    key = only_draft().answers["bild"]["storage_key"]
    response = client.post(url(site, "/apply/anliegen?return=check"), data={"art": "laerm"})
    assert location(response).endswith("/check")
    assert "bild" not in only_draft().answers
    assert not blob_store().exists(key)


def test_skipping_steps_by_editing_the_url_redirects_to_the_first_incomplete_step(
    client: FlaskClient, site: Site
) -> None:
    assert location(client.get(url(site, "/apply/anliegen"))).endswith("/apply/person")
    assert location(client.post(url(site, "/apply/abschluss"), data={"datenschutz": "y"})).endswith(
        "/apply/person"
    )
    assert location(client.get(url(site, "/check"))).endswith("/apply")
    client.post(url(site, "/apply/person"), data=PERSON)
    assert location(client.get(url(site, "/apply/abschluss"))).endswith("/apply/anliegen")
    assert location(client.get(url(site, "/check"))).endswith("/apply/anliegen")
    assert client.get(url(site, "/apply/nicht-da")).status_code == 404
    assert "datenschutz" not in only_draft().answers


def test_a_hidden_step_cannot_be_filled(client: FlaskClient, site: Site) -> None:
    client.post(url(site, "/apply/person"), data=PERSON)
    response = client.post(url(site, "/apply/firma"), data={"firmenname": "Eingeschmuggelt GmbH"})
    assert location(response).endswith("/apply/anliegen")
    assert "firmenname" not in only_draft().answers


def test_a_value_not_among_the_options_is_rejected(client: FlaskClient, site: Site) -> None:
    response = client.post(url(site, "/apply/person"), data={**PERSON, "rolle": "admin"})
    assert response.status_code == 200
    assert "Fehler:" in response.get_data(as_text=True)
    assert draft_count() == 0
    client.post(url(site, "/apply/person"), data=PERSON)
    response = client.post(url(site, "/apply/anliegen"), data={"art": "alles"})
    assert "Fehler:" in response.get_data(as_text=True)
    assert "art" not in only_draft().answers


def test_unknown_fields_and_fields_of_hidden_fieldsets_are_ignored(client: FlaskClient, site: Site) -> None:
    client.post(url(site, "/apply/person"), data={**PERSON, "is_admin": "1", "firmenname": "X GmbH"})
    response = client.post(
        url(site, "/apply/anliegen"),
        data={"art": "laerm", "bild": upload(png_bytes(4242)), "office_id": "99"},
        content_type="multipart/form-data",
    )
    assert location(response).endswith("/apply/abschluss")
    answers = only_draft().answers
    assert set(answers) == {"name", "email", "rolle", "art"}
    # The photo of the hidden fieldset was not stored (its bytes are used by no other test).
    assert not blob_store().exists(hashlib.sha256(png_bytes(4242)).hexdigest())


def test_a_condition_within_the_step_is_rendered_for_the_script(client: FlaskClient, site: Site) -> None:
    client.post(url(site, "/apply/person"), data=PERSON)
    page = client.get(url(site, "/apply/anliegen")).get_data(as_text=True)
    assert 'data-show-if=\'{"field": "art", "operator": "equals", "values": ["muell"]}\'' in page
    assert 'name="bild"' in page
    assert 'src="/static/js/conditions.js"' in page


def test_a_required_upload_of_a_shown_fieldset_is_enforced_without_javascript(
    client: FlaskClient, site: Site
) -> None:
    client.post(url(site, "/apply/person"), data=PERSON)
    response = client.post(url(site, "/apply/anliegen"), data={"art": "muell"})
    page = response.get_data(as_text=True)
    assert 'href="#bild"' in page
    assert "art" not in only_draft().answers


def test_an_upload_of_the_wrong_type_is_rejected_and_not_stored(client: FlaskClient, site: Site) -> None:
    client.post(url(site, "/apply/person"), data=PERSON)
    response = client.post(
        url(site, "/apply/anliegen"),
        data={"art": "muell", "bild": upload(b"MZ\x90\x00 not an image", "foto.png")},
        content_type="multipart/form-data",
    )
    assert 'href="#bild"' in response.get_data(as_text=True)
    assert "bild" not in only_draft().answers


def test_a_valid_upload_is_kept_when_another_field_of_the_step_fails(client: FlaskClient, site: Site) -> None:
    client.post(url(site, "/apply/person"), data=PERSON)
    photo = png_bytes(77)
    response = client.post(
        url(site, "/apply/anliegen"),
        data={"art": "muell", "beschreibung": "x" * 501, "bild": upload(photo)},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert 'href="#beschreibung"' in page
    assert "Hochgeladen:" in page and "foto.png" in page
    draft = only_draft()
    assert draft.answers["bild"]["sha256"] == hashlib.sha256(photo).hexdigest()
    assert draft.completed_steps == ["person"]
    response = client.post(url(site, "/apply/anliegen"), data={"art": "muell", "beschreibung": "kurz"})
    assert location(response).endswith("/apply/abschluss")
    assert only_draft().answers["bild"]["sha256"] == hashlib.sha256(photo).hexdigest()


def test_an_earlier_upload_is_listed_and_kept_when_no_new_file_is_sent(
    client: FlaskClient, site: Site
) -> None:
    walk_to_check(client, site, photo=png_bytes(5))
    page = client.get(url(site, "/apply/anliegen?return=check")).get_data(as_text=True)
    assert "Hochgeladen:" in page and "foto.png" in page
    response = client.post(url(site, "/apply/anliegen?return=check"), data={"art": "muell"})
    assert location(response).endswith("/check")
    assert only_draft().answers["bild"]["filename"] == "foto.png"


def test_flow_pages_are_never_cached(client: FlaskClient, site: Site) -> None:
    assert client.get(url(site, "/apply/person")).headers["Cache-Control"] == "no-store"
    walk_to_check(client, site)
    assert client.get(url(site, "/check")).headers["Cache-Control"] == "no-store"
    assert client.get(url(site, "/save")).headers["Cache-Control"] == "no-store"


def test_the_draft_cookie_is_httponly_lax_scoped_and_outlives_the_browser(
    app: Flask, client: FlaskClient, site: Site
) -> None:
    response = client.post(url(site, "/apply/person"), data=PERSON)
    header = response.headers["Set-Cookie"]
    assert header.startswith(f"{DRAFT_COOKIE}=")
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert f"Path=/teststadt/services/{PROBE}" in header
    assert f"Max-Age={app.config['DRAFT_LIFETIME_DAYS'] * 86400}" in header


def test_the_service_page_offers_to_continue_a_draft(client: FlaskClient, site: Site) -> None:
    client.post(url(site, "/apply/person"), data=PERSON)
    assert "Antrag fortsetzen" in client.get(url(site)).get_data(as_text=True)
    assert location(client.get(url(site, "/apply"))).endswith("/apply/anliegen")


def test_consent_links_the_communes_privacy_notice(client: FlaskClient, site: Site) -> None:
    client.post(url(site, "/apply/person"), data=PERSON)
    client.post(url(site, "/apply/anliegen"), data={"art": "laerm"})
    page = client.get(url(site, "/apply/abschluss")).get_data(as_text=True)
    assert '<a href="/teststadt/datenschutz">Datenschutzerklärung</a>' in page
    assert 'aria-describedby="datenschutz-hint"' in page
    response = client.post(url(site, "/apply/abschluss"), data={})
    assert 'href="#datenschutz"' in response.get_data(as_text=True)


def test_a_date_is_asked_as_day_month_year_in_a_fieldset(client: FlaskClient, site: Site) -> None:
    client.post(url(site, "/apply/person"), data=PERSON)
    page = client.get(url(site, "/apply/anliegen")).get_data(as_text=True)
    group = page[page.index('data-field="seit"') :]
    group = group[: group.index("</fieldset>")]
    assert '<fieldset class="fieldset" role="group"' in group
    assert '<legend class="legend">Seit wann?' in group
    for part, label in (("day", "Tag"), ("month", "Monat"), ("year", "Jahr")):
        assert f'<label class="label" for="seit-{part}">{label}</label>' in group
        assert f'name="seit-{part}"' in group
    response = client.post(
        url(site, "/apply/anliegen"), data={"art": "laerm", "seit-day": "31", "seit-month": "2"}
    )
    page = response.get_data(as_text=True)
    assert 'href="#seit-day"' in page and 'id="seit-day-error"' in page
