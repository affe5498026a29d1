"""Builders for staff accounts and logging a test client in."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.extensions import db
from app.staff import passwords
from app.staff.models import Role, User
from app.tenancy.models import Commune, Office

PASSWORD = "Lange-genug-und-selten-2026"
_seq = itertools.count(1)


def make_user(
    role: Role = Role.CLERK,
    *,
    commune: Commune | None = None,
    offices: Sequence[Office] = (),
    email: str | None = None,
    password: str = PASSWORD,
    **fields: object,
) -> User:
    """A committed, active account with ``password``."""
    user = User(
        email=email or f"{role.value}-{next(_seq)}@example.org",
        name=fields.pop("name", f"Test {role.value}"),
        role=role,
        commune=commune,
        offices=list(offices),
        password_hash=passwords.hash_password(password),
        **fields,
    )
    db.session.add(user)
    db.session.commit()
    return user


def log_in(client: FlaskClient, user: User, password: str = PASSWORD, **extra: str) -> TestResponse:
    """POST the login form; returns the response."""
    return client.post("/staff/login", data={"email": user.email, "password": password, **extra})
