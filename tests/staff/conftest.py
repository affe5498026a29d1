"""Fixtures of the staff tests: cheap password hashing and config that is restored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from flask import Config, Flask

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


@pytest.fixture
def app_config(app: Flask) -> Iterator[Config]:
    """Change app.config for one test and restore it afterwards."""
    saved = dict(app.config)
    yield app.config
    app.config.clear()
    app.config.update(saved)
