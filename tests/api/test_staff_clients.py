"""The API clients screens: commune admins create a client (token shown once, stored hashed),
see the list and revoke; clerks and other communes' admins cannot; CSRF and audit."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from staff.builders import log_in, make_user
from submission_builders import Place

from app.api.models import ApiClient
from app.api.services import hash_token
from app.extensions import db
from app.formspec import ServiceSpec
from app.staff.models import AuditAction, AuditEntry, Role
from app.timeutil import utcnow

from .builders import bearer, make_client

TOKEN = re.compile(r"kp_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def _base(place: Place) -> str:
    return f"/staff/{place.commune.slug}/api-clients"


@pytest.fixture
def admin_client(client: FlaskClient, place: Place) -> FlaskClient:
    log_in(client, make_user(Role.COMMUNE_ADMIN, commune=place.commune))
    return client


def test_admin_creates_client_and_sees_token_once(
    admin_client: FlaskClient, service: ServiceSpec, place: Place
) -> None:
    form = admin_client.get(f"{_base(place)}/new")
    assert form.status_code == 200
    assert "Ordnungsamt" in form.get_data(as_text=True)
    response = admin_client.post(
        f"{_base(place)}/new",
        data={
            "name": "Fachverfahren Hundesteuer",
            "offices": [str(place.office.id)],
            "services": [service.slug],
            "expires_on": (date.today() + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 200
    [token] = TOKEN.findall(response.get_data(as_text=True))
    stored = db.session.scalars(select(ApiClient)).one()
    assert stored.token_hash == hash_token(token)
    assert stored.office_ids == [place.office.id] and stored.service_slugs == [service.slug]
    assert stored.expires_at is not None and stored.expires_at > utcnow() + timedelta(days=29)
    assert stored.created_by_name
    listing = admin_client.get(_base(place)).get_data(as_text=True)
    assert "Fachverfahren Hundesteuer" in listing and f"kp_{stored.token_prefix}_" in listing
    assert token not in listing
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.API_CLIENT_CREATED)
    ).one()
    assert entry.commune_id == place.commune.id and token not in str(entry.details)
    assert admin_client.get("/api/v1/submissions", headers=bearer(token)).status_code == 200


def test_create_refuses_duplicate_names_past_expiry_and_foreign_offices(
    admin_client: FlaskClient, place: Place, foreign: Place
) -> None:
    make_client(place.commune, name="Doppelt")
    cases = [
        ({"name": "Doppelt"}, "schon einen API-Client"),
        ({"name": ""}, "Bitte geben Sie einen Namen an"),
        ({"name": "Gestern", "expires_on": (date.today() - timedelta(days=1)).isoformat()}, "Zukunft"),
        ({"name": "Fremd", "offices": [str(foreign.office.id)]}, "Fehler:"),
    ]
    for data, message in cases:
        response = admin_client.post(f"{_base(place)}/new", data=data)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert message in html and "Fehler:" in html
        assert not TOKEN.search(html)
    assert len(db.session.scalars(select(ApiClient)).all()) == 1


def test_revoke_ends_the_token_and_is_audited(admin_client: FlaskClient, place: Place) -> None:
    api_client, token = make_client(place.commune, name="Alt")
    response = admin_client.post(f"{_base(place)}/{api_client.id}/revoke")
    assert response.status_code == 302
    assert admin_client.get("/api/v1/submissions", headers=bearer(token)).status_code == 401
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "api_client")
    ).all()
    assert AuditAction.API_CLIENT_REVOKED in actions
    assert "gesperrt" in admin_client.get(_base(place)).get_data(as_text=True)


def test_clerk_gets_403_and_foreign_admin_404(client: FlaskClient, place: Place, foreign: Place) -> None:
    api_client, _token = make_client(place.commune)
    log_in(client, make_user(Role.CLERK, commune=place.commune, offices=[place.office]))
    assert client.get(_base(place)).status_code == 403
    assert client.post(f"{_base(place)}/{api_client.id}/revoke").status_code == 403
    client.post("/staff/logout")
    log_in(client, make_user(Role.COMMUNE_ADMIN, commune=foreign.commune))
    assert client.get(_base(place)).status_code == 404
    assert client.post(f"/staff/{foreign.commune.slug}/api-clients/{api_client.id}/revoke").status_code == 404
    assert db.session.get(ApiClient, api_client.id).revoked_at is None  # type: ignore[union-attr]


def test_forms_need_csrf(
    app: Flask, admin_client: FlaskClient, place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    api_client, _token = make_client(place.commune)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert admin_client.post(f"{_base(place)}/{api_client.id}/revoke").status_code == 400
    assert admin_client.post(f"{_base(place)}/new", data={"name": "Ohne Token"}).status_code == 400
    assert db.session.get(ApiClient, api_client.id).revoked_at is None  # type: ignore[union-attr]
    assert len(db.session.scalars(select(ApiClient)).all()) == 1


def test_navigation_shows_the_section_to_admins(admin_client: FlaskClient, place: Place) -> None:
    html = admin_client.get(_base(place)).get_data(as_text=True)
    assert f'href="{_base(place)}"' in html and "API-Clients" in html
