"""Fixtures of the editors' tests: a commune with its required pages and its staff, logged in."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from factories import make_commune, make_office
from flask import Flask
from flask.testing import FlaskClient
from staff.builders import log_in, make_user
from staff.conftest import _fast_hashing, app_config  # noqa: F401

from app.content.editing.required import ensure_required_pages
from app.extensions import db
from app.staff.models import Role, User
from app.tenancy.models import Commune


@dataclass
class Place:
    """A commune and one account of each role in it."""

    commune: Commune
    admin: User
    editor: User
    clerk: User

    def client(self, app: Flask, user: User) -> FlaskClient:
        client = app.test_client()
        response = log_in(client, user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client


def make_place(editors_may_publish: bool = False) -> Place:
    commune = make_commune(editors_may_publish=editors_may_publish)
    ensure_required_pages(commune)
    office = make_office(commune)
    db.session.commit()
    return Place(
        commune=commune,
        admin=make_user(Role.COMMUNE_ADMIN, commune=commune),
        editor=make_user(Role.EDITOR, commune=commune),
        clerk=make_user(Role.CLERK, commune=commune, offices=[office]),
    )


@pytest.fixture
def place(app: Flask) -> Place:
    """Commune A: review required (editors may not publish)."""
    return make_place()


@pytest.fixture
def foreign(app: Flask) -> Place:
    """Commune B, with its own staff."""
    return make_place()


@pytest.fixture
def editor(app: Flask, place: Place) -> FlaskClient:
    return place.client(app, place.editor)


@pytest.fixture
def admin(app: Flask, place: Place) -> FlaskClient:
    return place.client(app, place.admin)
