"""The password policy and argon2 hashing."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient

from app.extensions import db
from app.staff import passwords
from app.staff.models import Role
from app.staff.passwords import PasswordPolicyError, check_password_policy

from .builders import PASSWORD, log_in, make_user


@pytest.mark.usefixtures("app")
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("kurz-2026", "mindestens 12 Zeichen"),
        ("erika@example.org", "nicht Ihre E-Mail-Adresse"),
        ("ERIKA@EXAMPLE.ORG", "nicht Ihre E-Mail-Adresse"),
        ("aaaaaaaaaaaaaaaa", "einzigen, wiederholten Zeichen"),
        ("Passwort1234", "sehr häufig benutzt"),
        ("qwertz" + "uiop123", "sehr häufig benutzt"),
        ("x" * 257, "höchstens 256 Zeichen"),
    ],
)
def test_policy_refuses_weak_passwords_with_a_german_reason(password: str, message: str) -> None:
    with pytest.raises(PasswordPolicyError, match=message):
        check_password_policy(password, email="erika@example.org")


@pytest.mark.usefixtures("app")
def test_policy_accepts_a_long_uncommon_password() -> None:
    check_password_policy("Kiefern am Werbellinsee 7", email="erika@example.org")
    check_password_policy(PASSWORD, email="erika@example.org")


def test_passwords_are_stored_as_argon2id_hashes() -> None:
    stored = passwords.hash_password("Kiefern am Werbellinsee 7")
    assert stored.startswith("$argon2id$")
    assert "Kiefern" not in stored
    assert passwords.verify_password(stored, "Kiefern am Werbellinsee 7") == (True, False)
    assert passwords.verify_password(stored, "Kiefern am Werbellinsee 8") == (False, False)


def test_verifying_without_a_stored_hash_fails_like_a_wrong_password() -> None:
    assert passwords.verify_password(None, "irgendein-Passwort") == (False, False)


def test_login_rehashes_a_password_hashed_with_outdated_parameters(client: FlaskClient) -> None:
    outdated = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(PASSWORD)
    user = make_user(Role.ASSOCIATION_ADMIN)
    user.password_hash = outdated
    db.session.commit()
    assert log_in(client, user).status_code == 302
    db.session.refresh(user)
    assert user.password_hash != outdated
    assert not passwords.hasher.check_needs_rehash(user.password_hash)
    assert passwords.verify_password(user.password_hash, PASSWORD)[0]
