"""The association's screens: communes (create with first admin, edit, deactivate), the matrix, all users."""

from __future__ import annotations

import re

import pytest
from delivery.servers import SmtpRecorder
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.catalogue.models import CommuneService
from app.content.models import Page
from app.extensions import db
from app.staff.models import AuditAction, AuditEntry, Role, User
from app.tenancy.models import Commune
from staff.builders import log_in, make_user

from .conftest import Place


def _commune(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Panketal",
        "slug": "panketal",
        "official_name": "Gemeinde Panketal",
        "short_code": "pan",
        "street": "Schönerlinder Straße 47",
        "postal_code": "16341",
        "town": "Panketal",
        "email": "info@panketal.example",
        "phone": "030 94511",
        "admin_name": "Paula Admin",
        "admin_email": "paula@panketal.example",
    }
    data.update(overrides)
    return data


@pytest.fixture
def boss(app: Flask) -> User:
    return make_user(Role.ASSOCIATION_ADMIN)


def test_association_admin_creates_a_commune_with_required_pages_and_invited_admin(
    client: FlaskClient, boss: User, delivery_settings: Flask, smtp_server: SmtpRecorder
) -> None:
    log_in(client, boss)
    response = client.post("/staff/association/communes/new", data=_commune())
    assert response.status_code == 302, response.text
    commune = db.session.scalar(select(Commune).where(Commune.slug == "panketal"))
    assert commune is not None and commune.short_code == "PAN" and commune.active
    admin = db.session.scalar(select(User).where(User.email == "paula@panketal.example"))
    assert admin is not None and admin.role is Role.COMMUNE_ADMIN and admin.commune_id == commune.id
    pages = set(db.session.scalars(select(Page.slug).where(Page.commune_id == commune.id)))
    assert len(pages) >= 4
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ("paula@panketal.example",)
    assert re.search(r"/invitation/\S+", mail.message.get_content())
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.COMMUNE_CREATED))
    assert entry is not None and entry.commune_id == commune.id


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"slug": "staff"}, "reservierter Name"),
        ({"slug": "association"}, "reservierter Name"),
        ({"slug": "Pank Etal"}, "Kleinbuchstaben"),
        ({"slug": "werneuchen"}, "Es gibt schon eine Kommune mit der Adresse „werneuchen“."),
        ({"short_code": "P4N"}, "2 bis 6 Großbuchstaben"),
        ({"short_code": "GEM"}, "Das Kürzel GEM hat schon"),
        ({"admin_email": "kein-at"}, 'id="admin_email-error"'),
    ],
)
def test_a_new_commune_with_a_bad_slug_or_code_is_refused(
    client: FlaskClient, boss: User, place: Place, overrides: dict[str, str], message: str
) -> None:
    place.commune.short_code = "GEM"
    db.session.commit()
    log_in(client, boss)
    page = client.post("/staff/association/communes/new", data=_commune(**overrides))
    assert page.status_code == 200 and "Fehler:" in page.text
    assert message in page.text
    assert db.session.scalar(select(Commune).where(Commune.name == "Panketal")) is None


def test_association_admin_edits_a_commune(client: FlaskClient, boss: User, place: Place) -> None:
    log_in(client, boss)
    data = _commune(name="Werneuchen (Barnim)", short_code="WER")
    response = client.post("/staff/association/communes/werneuchen", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert place.commune.name == "Werneuchen (Barnim)" and place.commune.short_code == "WER"
    assert place.commune.slug == "werneuchen"


def test_deactivating_a_commune_answers_410_keeps_its_data_and_turns_its_staff_away(
    app: Flask, boss: User, place: Place
) -> None:
    staff_client, boss_client = app.test_client(), app.test_client()
    log_in(staff_client, place.admin)
    assert staff_client.get("/staff/werneuchen/settings").status_code == 200
    assert staff_client.get("/werneuchen/").status_code == 200
    log_in(boss_client, boss)
    assert (
        boss_client.post("/staff/association/communes/werneuchen/active", data={"active": "0"}).status_code
        == 302
    )

    public = staff_client.get("/werneuchen/")
    assert public.status_code == 410 and "ist nicht mehr im Portal" in public.text
    turned_away = staff_client.get("/staff/werneuchen/settings")
    assert turned_away.status_code == 302 and "/staff/login" in turned_away.location
    log_in(staff_client, place.admin)
    assert staff_client.get("/staff/").status_code == 302
    db.session.expire_all()
    assert db.session.get(Commune, place.commune.id) is not None
    assert len(place.commune.offices) == 2
    # The association still sees and manages the deactivated commune.
    assert boss_client.get("/staff/werneuchen/settings").status_code == 200

    assert (
        boss_client.post("/staff/association/communes/werneuchen/active", data={"active": "1"}).status_code
        == 302
    )
    assert staff_client.get("/werneuchen/").status_code == 200
    log_in(staff_client, place.admin)
    assert staff_client.get("/staff/werneuchen/settings").status_code == 200


def test_the_matrix_shows_which_commune_offers_which_service(
    client: FlaskClient, boss: User, place: Place, foreign: Place
) -> None:
    db.session.add(CommuneService(commune_id=place.commune.id, service_slug="hund-anmelden", enabled=True))
    db.session.add(CommuneService(commune_id=foreign.commune.id, service_slug="hund-anmelden", enabled=False))
    db.session.commit()
    log_in(client, boss)
    page = client.get("/staff/association/services")
    assert page.status_code == 200
    assert "<caption>" in page.text and '<th scope="col">' + place.commune.name in page.text
    row = re.search(r'<th scope="row">Hund anmelden \(Hundesteuer\)</th>(.*?)</tr>', page.text, re.S)
    assert row is not None
    cells = re.findall(r'class="visually-hidden">([^<]+)<', row.group(1))
    names = re.findall(r'<th scope="col">([^<(]+)', page.text)[1:]
    offered = dict(zip([n.strip() for n in names], cells, strict=True))
    assert offered == {place.commune.name: "angeboten", foreign.commune.name: "nicht angeboten"}


def test_all_users_can_be_filtered_by_commune_and_role(
    client: FlaskClient, boss: User, place: Place, foreign: Place
) -> None:
    clerk = make_user(Role.CLERK, commune=foreign.commune, name="Karl Klerk")
    log_in(client, boss)
    everyone = client.get("/staff/association/users")
    assert all(name in everyone.text for name in (place.admin.name, foreign.admin.name, clerk.name))
    bernau = client.get("/staff/association/users?commune=bernau")
    assert foreign.admin.name in bernau.text and place.admin.name not in bernau.text
    clerks = client.get("/staff/association/users?role=clerk")
    assert clerk.name in clerks.text and foreign.admin.name not in clerks.text


def test_nobody_but_association_admins_reaches_the_association_screens(
    client: FlaskClient, place: Place
) -> None:
    clerk = make_user(Role.CLERK, commune=place.commune)
    for user in (place.admin, clerk):
        client.post("/staff/logout")
        log_in(client, user)
        for url in ("/staff/association/communes", "/staff/association/services", "/staff/association/users"):
            assert client.get(url).status_code == 404
        assert client.post("/staff/association/communes/new", data=_commune()).status_code == 404
        assert (
            client.post("/staff/association/communes/werneuchen/active", data={"active": "0"}).status_code
            == 404
        )
    db.session.expire_all()
    assert place.commune.active
