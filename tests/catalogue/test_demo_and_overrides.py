"""The demo's cafeteria choices, and Werneuchen's override of a catalogue service (shipped forms/)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.catalogue import demo as catalogue_demo
from app.catalogue.models import CommuneService
from app.catalogue.services import get_catalogue, get_offered_service, offered_services
from app.extensions import db
from app.tenancy import demo as tenancy_demo
from app.tenancy.models import Commune

DEMO_SLUGS = ("werneuchen", "panketal", "fuerstenberg-havel", "amt-niemegk", "maerkische-heide")


@pytest.fixture
def demo(app: Flask) -> dict[str, Commune]:
    tenancy_demo.load_demo()
    catalogue_demo.load_demo()
    return {c.slug: c for c in db.session.scalars(select(Commune))}


def test_shipped_forms_load_without_errors(app: Flask) -> None:
    catalogue = get_catalogue()
    assert catalogue.errors == []
    assert len([s for s in catalogue.services.values() if s.online]) >= 14


def test_every_demo_service_exists_in_the_shipped_catalogue(app: Flask) -> None:
    catalogue = get_catalogue()
    for commune, slugs in catalogue_demo.DEMO_CHOICES.items():
        for slug in slugs:
            assert catalogue.get(slug, commune) is not None, (commune, slug)


def test_demo_communes_offer_different_services_routed_to_matching_offices(demo: dict[str, Commune]) -> None:
    offered = {slug: offered_services(demo[slug]) for slug in DEMO_SLUGS}
    assert len({frozenset(s.slug for s in services) for services in offered.values()}) == len(DEMO_SLUGS)
    for slug, services in offered.items():
        assert services, slug
        for service in services:
            assert service.office is not None, (slug, service.slug)
            assert service.office.kind == service.spec.office_kind
            assert service.online == service.spec.online
        assert [s.slug for s in services if s.choice.featured] == [s.slug for s in services[:3]]


def test_werneuchen_delivers_by_email_without_webhook_others_keep_defaults(demo: dict[str, Commune]) -> None:
    for service in offered_services(demo["werneuchen"]):
        assert service.choice.deliver_by_email
        assert service.choice.email_to == catalogue_demo.WERNEUCHEN_EMAIL
        assert service.choice.webhook_url is None
    for service in offered_services(demo["panketal"]):
        assert service.choice.deliver_by_email and service.choice.email_to == ""
        assert service.choice.email_recipient == service.office.email


def test_demo_is_idempotent(demo: dict[str, Commune]) -> None:
    before = db.session.scalar(select(func.count()).select_from(CommuneService))
    catalogue_demo.load_demo()
    assert db.session.scalar(select(func.count()).select_from(CommuneService)) == before


def test_every_demo_online_service_shows_its_first_step(
    client: FlaskClient, demo: dict[str, Commune]
) -> None:
    for slug in DEMO_SLUGS:
        for service in offered_services(demo[slug]):
            base = f"/{slug}/services/{service.slug}"
            assert client.get(base).status_code == 200, base
            if service.online:
                first = service.spec.form.steps[0].name
                response = client.get(f"{base}/apply/{first}")
                assert response.status_code == 200, base
                assert client.get(f"{base}/schema.json").status_code == 200, base


def test_the_leitweg_id_is_shown_on_the_e_invoice_page(client: FlaskClient, demo: dict[str, Commune]) -> None:
    commune = demo["werneuchen"]
    page = client.get("/werneuchen/services/e-rechnung").get_data(as_text=True)
    assert commune.leitweg_ids and commune.leitweg_ids[0] in page
    assert commune.leitweg_ids[0] not in client.get("/werneuchen/services/hund-anmelden").get_data(
        as_text=True
    )


def test_werneuchens_override_is_visible_in_werneuchen_only(
    client: FlaskClient, demo: dict[str, Commune]
) -> None:
    werneuchen = get_offered_service(demo["werneuchen"], "hund-anmelden")
    panketal = get_offered_service(demo["panketal"], "hund-anmelden")
    assert werneuchen.spec.version != panketal.spec.version
    added = {f.name for f in werneuchen.spec.form.fields()} - {f.name for f in panketal.spec.form.fields()}
    assert added == {"haftpflicht"}
    assert "48,00\xa0€" in client.get("/werneuchen/services/hund-anmelden").get_data(as_text=True)
    page = client.get("/panketal/services/hund-anmelden").get_data(as_text=True)
    assert "60,00\xa0€" in page and "48,00\xa0€" not in page
    werneuchen_schema = client.get("/werneuchen/services/hund-anmelden/schema.json").get_json(force=True)
    panketal_schema = client.get("/panketal/services/hund-anmelden/schema.json").get_json(force=True)
    assert "haftpflicht" in werneuchen_schema["properties"]
    assert "haftpflicht" not in panketal_schema["properties"]
