"""Fixtures of the API tests: the inbox test service, two communes offering it, a client each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from delivery.conftest import delivery_settings, smtp_server  # noqa: F401
from flask import Flask
from submission_builders import Place, inbox_service, make_place

from app.formspec import ServiceSpec

from .builders import make_client


@pytest.fixture
def service(app: Flask, tmp_path: Path) -> Iterator[ServiceSpec]:
    with inbox_service(app, tmp_path / "forms") as spec:
        yield spec


@pytest.fixture
def place(service: ServiceSpec) -> Place:
    """Commune A with offices A (receives the service) and B."""
    return make_place(service)


@pytest.fixture
def foreign(service: ServiceSpec) -> Place:
    """Commune B, also offering the service."""
    return make_place(service)


@pytest.fixture
def token(place: Place) -> str:
    """The token of an unscoped client of commune A."""
    return make_client(place.commune)[1]
