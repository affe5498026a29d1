"""TOTP secrets are stored encrypted under DATA_ENCRYPTION_KEYS, and keys can be rotated.

Secrets stored in clear text before encryption keep working and are encrypted
on the next successful login or by ``flask portal reencrypt``.
"""

from __future__ import annotations

import logging
import time

import pyotp
import pytest
from cryptography.fernet import Fernet
from flask import Config, Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.extensions import db
from app.staff.models import Role, User

from .builders import log_in, make_user

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()

_column = User.__table__.c.totp_secret


def _stored(user: User) -> str:
    """The value in the database column, as a backup or a database dump holds it."""
    db.session.commit()
    value = db.session.execute(select(_column).where(User.__table__.c.id == user.id)).scalar_one()
    assert isinstance(value, str)
    return value


def _store_clear_text(user: User, secret: str) -> None:
    """Write the column as the portal did before secrets were encrypted."""
    table = User.__table__
    db.session.execute(update(table).where(table.c.id == user.id).values(totp_secret=secret))
    db.session.commit()
    db.session.expire_all()


def _opens(key: str, stored: str) -> str:
    return Fernet(key.encode()).decrypt(stored.encode()).decode()


def _second_factor(client: FlaskClient, user: User, secret: str) -> bool:
    """Log in with password and the current TOTP code; whether the workspace opened."""
    first = log_in(client, user)
    assert first.headers["Location"] == "/staff/login/code"
    answer = client.post("/staff/login/code", data={"code": pyotp.TOTP(secret).at(time.time())})
    ok = answer.status_code == 302 and client.get("/staff/").status_code == 200
    client.post("/staff/logout")
    return ok


@pytest.fixture
def keys(app_config: Config) -> Config:
    app_config["DATA_ENCRYPTION_KEYS"] = [OLD_KEY]
    return app_config


def test_enrolment_stores_no_clear_secret_and_login_with_totp_works(
    client: FlaskClient, keys: Config
) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, user)
    client.get("/staff/account/two-factor")
    db.session.refresh(user)
    secret = user.totp_secret
    assert secret is not None and len(secret) == 32
    client.post("/staff/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    client.post("/staff/logout")
    db.session.refresh(user)
    assert user.two_factor_enabled

    stored = _stored(user)
    assert secret not in stored and secret.lower() not in stored.lower()
    assert _opens(OLD_KEY, stored) == secret
    # Time steps differ: wait out the enrolment's code by using the next one.
    user.totp_last_step = None
    db.session.commit()
    assert _second_factor(client, user, secret)


def test_the_same_secret_encrypts_differently_each_time(keys: Config) -> None:
    secret = pyotp.random_base32(32)
    first = make_user(Role.ASSOCIATION_ADMIN, totp_secret=secret, totp_confirmed=True)
    second = make_user(Role.ASSOCIATION_ADMIN, totp_secret=secret, totp_confirmed=True)
    assert _stored(first) != _stored(second)


def test_rotation_new_key_first_old_still_decrypts_then_reencrypt_lets_the_old_key_go(
    client: FlaskClient, keys: Config, app: Flask
) -> None:
    secrets_ = [pyotp.random_base32(32) for _ in range(2)]
    logging_in, idle = (
        make_user(Role.ASSOCIATION_ADMIN, totp_secret=s, totp_confirmed=True) for s in secrets_
    )
    assert _opens(OLD_KEY, _stored(logging_in))

    keys["DATA_ENCRYPTION_KEYS"] = [NEW_KEY, OLD_KEY]
    db.session.expire_all()
    assert idle.totp_secret == secrets_[1]
    # A successful login re-encrypts under the new key on the way.
    assert _second_factor(client, logging_in, secrets_[0])
    db.session.expire_all()
    assert _opens(NEW_KEY, _stored(logging_in)) == secrets_[0]
    assert _opens(OLD_KEY, _stored(idle)) == secrets_[1]

    result = app.test_cli_runner().invoke(args=["portal", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "staff_user.totp_secret: 1 von 2 neu verschlüsselt." in result.output
    assert _opens(NEW_KEY, _stored(idle)) == secrets_[1]

    keys["DATA_ENCRYPTION_KEYS"] = [NEW_KEY]
    db.session.expire_all()
    assert [u.totp_secret for u in (logging_in, idle)] == secrets_
    logging_in.totp_last_step = None
    db.session.commit()
    assert _second_factor(client, logging_in, secrets_[0])


def test_clear_text_secrets_of_old_still_log_in_and_are_encrypted_then(
    client: FlaskClient, keys: Config
) -> None:
    secret = pyotp.random_base32(32)
    user = make_user(Role.ASSOCIATION_ADMIN, totp_confirmed=True)
    _store_clear_text(user, secret)
    assert user.two_factor_enabled and user.totp_secret == secret

    assert _second_factor(client, user, secret)

    stored = _stored(user)
    assert secret not in stored
    assert _opens(OLD_KEY, stored) == secret


def test_reencrypt_command_encrypts_clear_text_secrets_of_old(keys: Config, app: Flask) -> None:
    secret = pyotp.random_base32(32)
    user = make_user(Role.ASSOCIATION_ADMIN, totp_confirmed=True)
    make_user(Role.ASSOCIATION_ADMIN)  # no 2FA: nothing to do
    _store_clear_text(user, secret)

    result = app.test_cli_runner().invoke(args=["portal", "reencrypt"])

    assert result.exit_code == 0, result.output
    assert "staff_user.totp_secret: 1 von 1 neu verschlüsselt." in result.output
    assert _opens(OLD_KEY, _stored(user)) == secret
    again = app.test_cli_runner().invoke(args=["portal", "reencrypt"])
    assert "staff_user.totp_secret: 0 von 1 neu verschlüsselt." in again.output


def test_a_secret_no_key_opens_fails_the_code_loudly_but_recovery_stays_possible(
    client: FlaskClient, keys: Config, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    secret = pyotp.random_base32(32)
    user = make_user(Role.ASSOCIATION_ADMIN, totp_secret=secret, totp_confirmed=True)
    keys["DATA_ENCRYPTION_KEYS"] = [NEW_KEY]
    db.session.expire_all()

    with caplog.at_level(logging.ERROR, logger="app.staff.twofactor"):
        assert not _second_factor(client, user, secret)
    assert any("cannot be decrypted" in r.getMessage() for r in caplog.records)

    result = app.test_cli_runner().invoke(args=["portal", "reencrypt"])
    assert result.exit_code == 1
    assert f"staff_user.totp_secret id {user.id}" in result.output
