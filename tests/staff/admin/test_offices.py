"""Offices: a commune admin creates and edits them; slugs and kinds are checked."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.staff.models import AuditAction, AuditEntry, Role
from app.tenancy.models import Office
from staff.builders import log_in, make_user

from .conftest import Place


def _office(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Standesamt",
        "slug": "standesamt",
        "kind": "standesamt",
        "email": "standesamt@werneuchen.example",
        "phone": "033398 81699",
        "room": "Zimmer 12",
        "opening_hours": "- Dienstag: 9–12 Uhr",
        "active": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_creates_and_edits_an_office(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    assert client.post("/staff/werneuchen/offices/new", data=_office()).status_code == 302
    office = db.session.scalar(select(Office).where(Office.slug == "standesamt"))
    assert office is not None and office.commune_id == place.commune.id and office.kind == "standesamt"
    assert office.room == "Zimmer 12" and office.active
    listing = client.get("/staff/werneuchen/offices")
    assert "Standesamt" in listing.text

    response = client.post(
        f"/staff/werneuchen/offices/{office.id}", data=_office(name="Standesamt Werneuchen", active=None)
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert office.name == "Standesamt Werneuchen" and not office.active
    actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "office")))
    assert actions == [AuditAction.OFFICE_CREATED, AuditAction.OFFICE_CHANGED]


def test_office_slug_must_be_unique_in_the_commune_and_well_formed(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    clash = client.post("/staff/werneuchen/offices/new", data=_office(slug="buergeramt"))
    assert "Die Kommune hat schon ein Fachamt mit dem Kürzel „buergeramt“." in clash.text
    bad = client.post("/staff/werneuchen/offices/new", data=_office(slug="Bürger Amt"))
    assert "Das Kürzel für die Adresse besteht aus Kleinbuchstaben" in bad.text
    kind = client.post("/staff/werneuchen/offices/new", data=_office(kind="geheimdienst"))
    assert kind.status_code == 200 and "Fehler:" in kind.text
    assert db.session.scalar(select(Office).where(Office.slug == "standesamt")) is None


def test_the_same_office_slug_may_exist_in_another_commune(
    client: FlaskClient, place: Place, foreign: Place
) -> None:
    log_in(client, foreign.admin)
    assert client.post("/staff/bernau/offices/new", data=_office(slug="kaemmerei")).status_code == 200
    assert client.post("/staff/bernau/offices/new", data=_office()).status_code == 302
    client.post("/staff/logout")
    log_in(client, place.admin)
    assert client.post("/staff/werneuchen/offices/new", data=_office()).status_code == 302


def test_offices_of_another_commune_cannot_be_reached(
    client: FlaskClient, place: Place, foreign: Place
) -> None:
    log_in(client, place.admin)
    assert client.get(f"/staff/werneuchen/offices/{foreign.buergeramt.id}").status_code == 404
    assert (
        client.post(f"/staff/werneuchen/offices/{foreign.buergeramt.id}", data=_office()).status_code == 404
    )
    assert client.get("/staff/bernau/offices").status_code == 404
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.buergeramt])
    client.post("/staff/logout")
    log_in(client, clerk)
    assert client.get("/staff/werneuchen/offices").status_code == 403
    assert client.post("/staff/werneuchen/offices/new", data=_office()).status_code == 403
