"""Fixtures of the e-file tests: the inbox's test service and communes, a clerk, mail to a test server."""

from __future__ import annotations

import pytest
from delivery.conftest import delivery_settings, smtp_server, webhook_receiver  # noqa: F401
from staff.builders import make_user
from staff.conftest import _fast_hashing  # noqa: F401  (cheap argon2 parameters, as for the staff tests)
from staff.inbox.conftest import foreign, place, service  # noqa: F401
from submission_builders import Place

from app.staff.models import Role, User


@pytest.fixture
def clerk(place: Place) -> User:  # noqa: F811
    """A clerk of the office that receives the test service."""
    return make_user(Role.CLERK, commune=place.commune, offices=[place.office])
