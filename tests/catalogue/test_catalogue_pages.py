"""The commune's catalogue: listing by topic, search, descriptions, 404s, schema.json, featured."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from factories import make_commune, make_office
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from submission_builders import INFO, PROBE, Site, make_site, offer, serving, write_probe_forms

from app.catalogue.services import (
    EXTENSION_KEY,
    featured_services,
    get_offered_service,
    load_into_app,
    offered_services,
)
from app.extensions import db
from app.formspec import Catalogue


@pytest.fixture
def catalogue(app: Flask, tmp_path: Path) -> Iterator[Catalogue]:
    with serving(app, write_probe_forms(tmp_path / "forms")) as served:
        yield served


@pytest.fixture
def site(catalogue: Catalogue) -> Site:
    return make_site(catalogue)


def test_catalogue_lists_offered_services_grouped_by_topic(client: FlaskClient, site: Site) -> None:
    page = client.get(f"{site.base}/").get_data(as_text=True)
    assert "<h1>Leistungen von Teststadt</h1>" in page
    assert page.index(">Bürgerservice</h2>") < page.index(">Ordnung und Sicherheit</h2>")
    assert f'href="/teststadt/services/{PROBE}"' in page
    assert f'href="/teststadt/services/{INFO}"' in page


def test_information_only_services_are_listed_and_marked(client: FlaskClient, site: Site) -> None:
    page = client.get(f"{site.base}/").get_data(as_text=True)
    info_part = page[page.index(">Bürgerservice</h2>") : page.index(">Ordnung und Sicherheit</h2>")]
    assert "Nur Information" in info_part
    assert "Online beantragen" not in info_part


def test_search_finds_by_title_and_short_text_and_reports_no_match(client: FlaskClient, site: Site) -> None:
    page = client.get(f"{site.base}/?q=stadtarchiv").get_data(as_text=True)
    assert "1 Leistung gefunden" in page
    assert f'href="/teststadt/services/{INFO}"' in page
    assert f'href="/teststadt/services/{PROBE}"' not in page
    page = client.get(f"{site.base}/?q=PROBE formular").get_data(as_text=True)
    assert f'href="/teststadt/services/{PROBE}"' in page
    page = client.get(f"{site.base}/?q=hundesteuer").get_data(as_text=True)
    assert "Keine Leistung gefunden" in page


def test_service_page_describes_the_service_with_a_start_button(client: FlaskClient, site: Site) -> None:
    response = client.get(f"{site.base}/{PROBE}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in (
        "<h1>Probeantrag</h1>",
        "<strong>Lärm</strong>",
        "Alle Einwohnerinnen und Einwohner.",
        "ein Foto des Mülls",
        "Die Bearbeitung kostet 20 Euro.",
        "20,00\xa0€",
        "Probesatzung § 1",
        "etwa eine Woche",
        "Ordnungsamt",
        "99000000000000",
    ):
        assert text in page, text
    assert f'href="/teststadt/services/{PROBE}/apply"' in page


def test_information_only_service_has_no_start_button(client: FlaskClient, site: Site) -> None:
    page = client.get(f"{site.base}/{INFO}").get_data(as_text=True)
    assert "Auskunft aus dem Archiv" in page
    assert "/apply" not in page
    assert client.get(f"{site.base}/{INFO}/apply").status_code == 404


@pytest.mark.parametrize("path", ["hund-anmelden", "gibt-es-nicht", "hund-anmelden/apply"])
def test_service_not_offered_by_the_commune_is_404(client: FlaskClient, site: Site, path: str) -> None:
    assert client.get(f"{site.base}/{path}").status_code == 404


def test_disabled_service_and_other_communes_service_are_404(client: FlaskClient, site: Site) -> None:
    other = make_commune("anderstadt")
    offer(other, "zweiter-dienst-ohne-definition", None)
    assert client.get(f"/anderstadt/services/{PROBE}").status_code == 404
    assert client.get("/anderstadt/services/zweiter-dienst-ohne-definition").status_code == 404
    choice = get_offered_service(site.commune, PROBE).choice
    choice.enabled = False
    db.session.commit()
    assert client.get(f"{site.base}/{PROBE}").status_code == 404
    assert client.get(f"{site.base}/{PROBE}/apply/person").status_code == 404
    assert PROBE not in client.get(f"{site.base}/").get_data(as_text=True)


def test_online_service_without_receiving_office_is_information_only(
    client: FlaskClient, catalogue: Catalogue
) -> None:
    commune = make_commune("ohneamt")
    offer(commune, PROBE, None)
    assert get_offered_service(commune, PROBE) is None
    assert get_offered_service(commune, PROBE, online_only=False) is not None
    page = client.get(f"/ohneamt/services/{PROBE}").get_data(as_text=True)
    assert "nicht online beantragen" in page
    assert client.get(f"/ohneamt/services/{PROBE}/apply").status_code == 404


def test_schema_json_is_a_valid_json_schema_of_the_answers(client: FlaskClient, site: Site) -> None:
    response = client.get(f"{site.base}/{PROBE}/schema.json")
    assert response.status_code == 200
    assert response.mimetype == "application/schema+json"
    schema = json.loads(response.get_data(as_text=True))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    validator = Draft202012Validator(schema)
    assert validator.is_valid(
        {"name": "Erika Mustermann", "rolle": "privat", "art": "laerm", "datenschutz": True}
    )
    assert not validator.is_valid({"name": "Erika Mustermann", "rolle": "hacker"})


def test_schema_json_of_information_only_or_unoffered_service_is_404(client: FlaskClient, site: Site) -> None:
    assert client.get(f"{site.base}/{INFO}/schema.json").status_code == 404
    assert client.get(f"{site.base}/hund-anmelden/schema.json").status_code == 404


def test_featured_services_appear_on_the_commune_home_page(client: FlaskClient, site: Site) -> None:
    choice = get_offered_service(site.commune, PROBE).choice
    choice.featured = True
    db.session.commit()
    assert [s.slug for s in featured_services(site.commune)] == [PROBE]
    page = client.get("/teststadt/").get_data(as_text=True)
    assert 'id="featured-services-title"' in page
    assert f'href="/teststadt/services/{PROBE}"' in page


def test_commune_home_page_without_featured_services_shows_none(client: FlaskClient, site: Site) -> None:
    page = client.get("/teststadt/").get_data(as_text=True)
    assert 'id="featured-services-title"' not in page


def test_fee_override_replaces_the_base_fee(client: FlaskClient, site: Site) -> None:
    offered = get_offered_service(site.commune, PROBE)
    offered.choice.fee_override = Decimal("12.50")
    db.session.commit()
    offered = get_offered_service(site.commune, PROBE)
    fees = offered.fees({"art": "muell"})
    assert [line.amount for line in fees.lines] == [Decimal("12.50"), Decimal("5.00")]
    assert fees.total == Decimal("17.50")
    page = client.get(f"{site.base}/{PROBE}").get_data(as_text=True)
    assert "12,50\xa0€" in page
    assert "Die Bearbeitung kostet 20 Euro." not in page


def test_offered_services_follow_the_communes_order_and_skip_unknown_definitions(site: Site) -> None:
    offer(site.commune, "nicht-mehr-im-katalog", site.office, position=-1)
    assert [s.slug for s in offered_services(site.commune)] == [PROBE, INFO]


def test_a_broken_definition_is_logged_and_skipped_the_rest_serve(
    app: Flask, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    forms_dir = write_probe_forms(tmp_path / "forms", {"catalogue/kaputt.yaml": "title: [kaputt\n"})
    previous = app.extensions.get(EXTENSION_KEY)
    app.config["FORMS_DIR"], old_dir = str(forms_dir), app.config["FORMS_DIR"]
    try:
        with caplog.at_level(logging.ERROR, logger="app.catalogue.services"):
            catalogue = load_into_app(app)
    finally:
        app.config["FORMS_DIR"] = old_dir
        app.extensions[EXTENSION_KEY] = previous
    assert set(catalogue.services) == {PROBE, INFO}
    assert any("kaputt.yaml" in record.getMessage() for record in caplog.records)


def test_office_of_another_commune_is_not_used(catalogue: Catalogue) -> None:
    commune = make_commune("erste")
    foreign = make_office(make_commune("zweite"), kind="ordnungsamt")
    offer(commune, PROBE, foreign)
    assert get_offered_service(commune, PROBE) is None
