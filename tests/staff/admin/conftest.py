"""Fixtures of the administration tests: a commune with offices, its admin, a foreign commune."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from delivery.conftest import delivery_settings, smtp_server, webhook_receiver  # noqa: F401
from factories import make_commune, make_office
from flask import Flask

from app.staff.models import Role, User
from app.tenancy.models import Commune, Office
from staff.builders import make_user


@dataclass
class Place:
    """A commune with two offices (Bürgeramt, Kämmerei) and its commune admin."""

    commune: Commune
    buergeramt: Office
    kaemmerei: Office
    admin: User


def make_place(slug: str) -> Place:
    commune = make_commune(slug)
    buergeramt = make_office(commune, "buergeramt", name="Bürgeramt", kind="buergeramt")
    kaemmerei = make_office(commune, "kaemmerei", name="Kämmerei", kind="kaemmerei")
    admin = make_user(Role.COMMUNE_ADMIN, commune=commune, name=f"Admin {slug}")
    return Place(commune, buergeramt, kaemmerei, admin)


@pytest.fixture
def place(app: Flask) -> Place:
    return make_place("werneuchen")


@pytest.fixture
def foreign(app: Flask) -> Place:
    return make_place("bernau")
