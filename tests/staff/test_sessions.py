"""Session safety: invalidation on password change, idle timeout, safe ``next``, CSRF."""

from __future__ import annotations

import re
import time

import pytest
from flask import Config, Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.staff.auth import LAST_SEEN_KEY
from app.staff.models import AuditAction, AuditEntry, Role

from .builders import PASSWORD, log_in, make_user

NEW_PASSWORD = "Ein ganz neues Passwort 2026"


def test_changing_the_password_logs_out_every_other_session(app: Flask) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    office_pc, laptop = app.test_client(), app.test_client()
    log_in(office_pc, user)
    log_in(laptop, user)
    assert laptop.get("/staff/").status_code == 200
    response = office_pc.post(
        "/staff/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert response.headers["Location"] == "/staff/account"
    assert office_pc.get("/staff/").status_code == 200
    kicked = laptop.get("/staff/")
    assert kicked.status_code == 302
    assert kicked.headers["Location"].startswith("/staff/login")
    assert log_in(laptop, user, password=PASSWORD).status_code == 200
    assert log_in(laptop, user, password=NEW_PASSWORD).status_code == 302
    actions = list(db.session.scalars(select(AuditEntry.action)))
    assert AuditAction.PASSWORD_CHANGED in actions


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"current_password": "falsch-falsch-falsch"}, "Das bisherige Passwort ist nicht richtig."),
        ({"new_password": "zu-kurz", "confirm_password": "zu-kurz"}, "mindestens 12 Zeichen"),
        ({"confirm_password": "etwas anderes 2026"}, "stimmen nicht überein"),
        ({"new_password": PASSWORD, "confirm_password": PASSWORD}, "muss sich vom bisherigen unterscheiden"),
    ],
)
def test_password_change_refusals_say_why(client: FlaskClient, data: dict[str, str], message: str) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, user)
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    form.update(data)
    response = client.post("/staff/account/password", data=form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert "Es gibt ein Problem" in page
    db.session.refresh(user)
    assert user.auth_generation == 1


def test_disabling_an_account_ends_its_sessions(client: FlaskClient) -> None:
    from app.staff import services
    from app.staff.audit import Origin

    user = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, user)
    services.set_active(user, False, origin=Origin.command("test"))
    db.session.commit()
    assert client.get("/staff/").status_code == 302


def test_an_idle_session_ends_and_login_returns_to_the_page(client: FlaskClient, app_config: Config) -> None:
    app_config["SESSION_IDLE_MINUTES"] = 30
    user = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, user)
    with client.session_transaction() as session:
        session[LAST_SEEN_KEY] = int(time.time()) - 29 * 60
    assert client.get("/staff/account").status_code == 200  # still within the limit, and renewed
    with client.session_transaction() as session:
        session[LAST_SEEN_KEY] = int(time.time()) - 31 * 60
    expired = client.get("/staff/account?view=2fa")
    assert expired.status_code == 302
    assert expired.headers["Location"] == "/staff/login?next=/staff/account?view%3D2fa"
    login_page = client.get(expired.headers["Location"])
    assert "nicht aktiv" in login_page.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    back = log_in(client, user, next="/staff/account?view=2fa")
    assert back.headers["Location"] == "/staff/account?view=2fa"
    actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == [AuditAction.LOGIN, AuditAction.SESSION_EXPIRED, AuditAction.LOGIN]


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/staff/",
        "//evil.example/staff/",
        "/\\evil.example/staff/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http://evil.example@localhost.evil/staff/",
        "/staff/\r\nLocation: https://evil.example",
        "/",
        "/werneuchen/",
        "ftp://localhost/staff/",
    ],
)
def test_login_refuses_to_send_the_user_elsewhere(client: FlaskClient, target: str) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    page = client.get("/staff/login", query_string={"next": target})
    assert 'name="next" type="hidden" value=""' in page.get_data(as_text=True)
    response = log_in(client, user, next=target)
    assert response.headers["Location"] == "/staff/"


def test_login_accepts_a_full_url_of_its_own_host(client: FlaskClient) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    response = log_in(client, user, next="http://localhost/staff/account")
    assert response.headers["Location"] == "/staff/account"


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_login_and_logout_need_a_csrf_token(client: FlaskClient, app_config: Config) -> None:
    app_config["WTF_CSRF_ENABLED"] = True
    user = make_user(Role.ASSOCIATION_ADMIN)
    assert log_in(client, user).status_code == 400
    token = _token(client.get("/staff/login").get_data(as_text=True))
    assert log_in(client, user, csrf_token=token).status_code == 302
    assert client.post("/staff/logout").status_code == 400
    dashboard = client.get("/staff/")
    assert dashboard.status_code == 200
    logout_token = _token(dashboard.get_data(as_text=True))
    assert client.post("/staff/logout", data={"csrf_token": logout_token}).status_code == 302
    assert client.get("/staff/").status_code == 302


def test_staff_pages_are_not_cached(client: FlaskClient) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, user)
    assert client.get("/staff/account").headers["Cache-Control"] == "no-store"


def test_a_session_used_from_another_browser_is_dropped(client: FlaskClient) -> None:
    """Strong session protection: a stolen cookie does not work with another user agent."""
    user = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, user)
    assert client.get("/staff/").status_code == 200
    assert client.get("/staff/", headers={"User-Agent": "Stolen/1.0"}).status_code == 302
