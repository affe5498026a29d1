"""Fixtures of the staff tests: cheap password hashing and config that is restored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from flask import Config, Flask, g, request_started

from app.staff import passwords


@pytest.fixture(scope="session", autouse=True)
def _fast_hashing() -> Iterator[None]:
    """Tests hash many passwords; cheap parameters keep them fast (the algorithm stays argon2id)."""
    fast = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    original = passwords.hasher
    passwords.hasher = fast
    passwords._dummy_hash.cache_clear()
    yield
    passwords.hasher = original
    passwords._dummy_hash.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_login_per_request(app: Flask) -> Iterator[None]:
    """Forget the cached current user at the start of every test request.

    The suite keeps one app context open for the whole test, and requests of the
    test client reuse it, so ``g`` (where Flask-Login caches the user) would outlive
    a request; in production every request has its own ``g``.
    """

    def forget(sender: Flask, **_extra: object) -> None:
        g.pop("_login_user", None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


@pytest.fixture
def app_config(app: Flask) -> Iterator[Config]:
    """Change app.config for one test and restore it afterwards."""
    saved = dict(app.config)
    yield app.config
    app.config.clear()
    app.config.update(saved)
