"""Logging in and out of the staff area."""

from __future__ import annotations

from factories import make_commune
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.staff.models import AuditAction, AuditEntry, Role

from .builders import PASSWORD, log_in, make_user


def _actions() -> list[AuditAction]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_login_with_correct_password_reaches_dashboard(client: FlaskClient) -> None:
    commune = make_commune()
    user = make_user(Role.COMMUNE_ADMIN, commune=commune, name="Erika Muster")
    response = log_in(client, user)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "Erika Muster" in page.get_data(as_text=True)
    assert _actions() == [AuditAction.LOGIN]
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_login_email_is_case_insensitive(client: FlaskClient) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN, email="Admin@Example.org")
    assert user.email == "admin@example.org"
    response = client.post("/staff/login", data={"email": " ADMIN@example.ORG ", "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_and_unknown_account_get_the_same_answer(client: FlaskClient) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    wrong = log_in(client, user, password="falsches-Passwort-123")
    unknown = client.post("/staff/login", data={"email": "niemand@example.org", "password": "x" * 12})
    assert wrong.status_code == unknown.status_code == 200
    message = "Die E-Mail-Adresse oder das Passwort ist nicht richtig."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert _actions() == [AuditAction.LOGIN_FAILED, AuditAction.LOGIN_FAILED]
    entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert entries[0].actor_id == user.id
    assert entries[0].details == {"reason": "password"}
    assert entries[1].actor_id is None
    assert entries[1].actor_email == "niemand@example.org"


def test_disabled_account_cannot_log_in(client: FlaskClient) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN, active=False)
    response = log_in(client, user)
    assert response.status_code == 200
    assert "nicht richtig" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_staff_pages_need_login_and_remember_where_the_user_was(client: FlaskClient) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    response = client.get("/staff/account?tab=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login?next=/staff/account?tab%3D1"
    login_page = client.get(response.headers["Location"])
    assert 'value="/staff/account?tab=1"' in login_page.get_data(as_text=True)
    done = log_in(client, user, next="/staff/account?tab=1")
    assert done.headers["Location"] == "/staff/account?tab=1"


def test_logout_ends_the_session_and_is_recorded(client: FlaskClient) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, user)
    response = client.post("/staff/logout")
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 302
    assert _actions() == [AuditAction.LOGIN, AuditAction.LOGOUT]


def test_logout_by_get_does_nothing(client: FlaskClient) -> None:
    """A link or image pointing at the logout URL cannot log a clerk out (POST with CSRF only)."""
    user = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, user)
    assert client.get("/staff/logout").status_code in (404, 405)
    assert client.get("/staff/").status_code == 200
