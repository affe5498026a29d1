"""TOTP two-factor authentication: enrolment, login step, recovery codes, mandatory 2FA."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from factories import make_commune
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.staff import twofactor
from app.staff.models import AuditAction, AuditEntry, Role, User

from .builders import PASSWORD, log_in, make_user


def _code(user: User, steps_ahead: int = 0) -> str:
    """The code the user's app shows ``steps_ahead`` time steps from now."""
    assert user.totp_secret
    return pyotp.TOTP(user.totp_secret).at(time.time() + 30 * steps_ahead)


def _enrol(client: FlaskClient, user: User) -> list[str]:
    """Set up 2FA through the account pages; returns the recovery codes shown."""
    page = client.get("/staff/account/two-factor")
    assert page.status_code == 200
    db.session.refresh(user)
    secret = user.totp_secret
    assert secret is not None
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in page.get_data(as_text=True)
    done = client.post("/staff/account/two-factor", data={"code": _code(user)})
    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code>", done.get_data(as_text=True))
    db.session.refresh(user)
    assert user.two_factor_enabled
    return codes


def _actions() -> list[AuditAction]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_enrolment_shows_qr_code_and_ten_recovery_codes_stored_hashed(client: FlaskClient) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, user)
    client.get("/staff/account/two-factor")
    qr = client.get("/staff/account/two-factor/qr.svg")
    assert qr.status_code == 200
    assert qr.mimetype == "image/svg+xml"
    assert b"<svg" in qr.data
    codes = _enrol(client, user)
    assert len(codes) == len(set(codes)) == 10
    stored = [rc.code_hash for rc in user.recovery_codes]
    assert len(stored) == 10
    assert all(h.startswith("$argon2") for h in stored)
    assert not any(code.replace("-", "") in h for code in codes for h in stored)
    # Once confirmed, the secret is no longer shown or drawn.
    assert client.get("/staff/account/two-factor/qr.svg").status_code == 404
    assert AuditAction.TWO_FACTOR_ENABLED in _actions()


def test_enrolment_with_a_wrong_code_keeps_2fa_off(client: FlaskClient) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, user)
    client.get("/staff/account/two-factor")
    response = client.post("/staff/account/two-factor", data={"code": "000000"})
    assert response.status_code == 200
    assert "Der Code stimmt nicht" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert not user.two_factor_enabled


def test_login_needs_the_code_after_the_password(client: FlaskClient, app: object) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, user)
    _enrol(client, user)
    client.post("/staff/logout")

    step_one = log_in(client, user, next="/staff/account")
    assert step_one.headers["Location"] == "/staff/login/code"
    assert client.get("/staff/").status_code == 302  # not logged in yet
    wrong = client.post("/staff/login/code", data={"code": "123456"})
    assert "nicht richtig" in wrong.get_data(as_text=True)
    # The enrolment used the current code; the next one is accepted (one step of clock drift).
    right = client.post("/staff/login/code", data={"code": _code(user, steps_ahead=1)})
    assert right.headers["Location"] == "/staff/account"
    assert client.get("/staff/").status_code == 200


def test_a_totp_code_cannot_be_used_twice(app: object) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN, totp_secret=pyotp.random_base32(), totp_confirmed=True)
    now = datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC)
    code = pyotp.TOTP(user.totp_secret).at(now)
    assert twofactor.verify_totp(user, code, now)
    assert not twofactor.verify_totp(user, code, now + timedelta(seconds=5))
    older = pyotp.TOTP(user.totp_secret).at(now - timedelta(seconds=30))
    assert not twofactor.verify_totp(user, older, now)
    later = pyotp.TOTP(user.totp_secret).at(now + timedelta(seconds=30))
    assert twofactor.verify_totp(user, later, now + timedelta(seconds=30))


def test_a_recovery_code_logs_in_once(client: FlaskClient) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, user)
    codes = _enrol(client, user)
    client.post("/staff/logout")

    log_in(client, user)
    used = client.post("/staff/login/code", data={"code": codes[3].upper().replace("-", " ")})
    assert used.headers["Location"] == "/staff/"
    client.post("/staff/logout")

    log_in(client, user)
    again = client.post("/staff/login/code", data={"code": codes[3]})
    assert again.status_code == 200
    assert "schon benutzt" in again.get_data(as_text=True)
    assert AuditAction.RECOVERY_CODE_USED in _actions()
    assert twofactor.unused_recovery_codes(user) == 9


def test_regenerating_recovery_codes_needs_the_password_and_voids_the_old_ones(client: FlaskClient) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, user)
    old = _enrol(client, user)
    url = "/staff/account/two-factor/recovery-codes"
    refused = client.post(url, data={"codes-password": "falsch-falsch"})
    assert "Das Passwort ist nicht richtig." in refused.get_data(as_text=True)
    fresh = client.post(url, data={"codes-password": PASSWORD})
    new = re.findall(r"<code>([a-z0-9-]{14})</code>", fresh.get_data(as_text=True))
    assert len(new) == 10
    assert set(new).isdisjoint(old)
    assert AuditAction.RECOVERY_CODES_GENERATED in _actions()
    db.session.expire_all()
    assert not twofactor.use_recovery_code(user, old[0], datetime.now(UTC))
    assert twofactor.use_recovery_code(user, new[0], datetime.now(UTC))


def test_disabling_2fa_needs_the_password(client: FlaskClient) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, user)
    _enrol(client, user)
    refused = client.post("/staff/account/two-factor/disable", data={"disable-password": "falsch-falsch"})
    assert "Das Passwort ist nicht richtig." in refused.get_data(as_text=True)
    db.session.refresh(user)
    assert user.two_factor_enabled
    done = client.post("/staff/account/two-factor/disable", data={"disable-password": PASSWORD})
    assert done.status_code == 302
    db.session.refresh(user)
    assert not user.two_factor_enabled
    assert user.totp_secret is None
    assert user.recovery_codes == []
    assert AuditAction.TWO_FACTOR_DISABLED in _actions()


def test_a_commune_that_requires_2fa_sends_its_staff_to_the_setup_first(client: FlaskClient) -> None:
    commune = make_commune(require_two_factor=True)
    user = make_user(Role.COMMUNE_ADMIN, commune=commune)
    assert log_in(client, user).headers["Location"] == "/staff/"
    for path in ("/staff/", f"/staff/{commune.slug}/audit"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/staff/account/two-factor"
    assert client.get("/staff/account").status_code == 200
    _enrol(client, user)
    assert client.get("/staff/").status_code == 200
    refused = client.post("/staff/account/two-factor/disable", data={"disable-password": PASSWORD})
    assert "schreibt die Zwei-Faktor-Anmeldung vor" in refused.get_data(as_text=True)
    db.session.refresh(user)
    assert user.two_factor_enabled


@pytest.mark.usefixtures("app")
def test_required_2fa_applies_only_to_that_communes_staff(client: FlaskClient) -> None:
    strict = make_commune(require_two_factor=True)
    relaxed = make_commune()
    user = make_user(Role.COMMUNE_ADMIN, commune=relaxed)
    make_user(Role.COMMUNE_ADMIN, commune=strict)
    log_in(client, user)
    assert client.get("/staff/").status_code == 200
