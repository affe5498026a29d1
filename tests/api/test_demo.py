"""The demo API client: created once for Werneuchen with its token printed, never reprinted,
and only in DEMO_MODE."""

from __future__ import annotations

import re

import pytest
from factories import make_commune
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.api.demo import DEMO_CLIENT_NAME, load_demo
from app.api.models import ApiClient
from app.api.services import revoke_client
from app.extensions import db
from app.staff.audit import Origin

from .builders import bearer

TOKEN = re.compile(r"kp_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def test_demo_client_is_made_once_and_its_token_works(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    make_commune("werneuchen", name="Werneuchen")
    [line] = load_demo()
    [token] = TOKEN.findall(line)
    assert client.get("/api/v1/submissions", headers=bearer(token)).status_code == 200
    [again] = load_demo()
    assert not TOKEN.search(again) and "besteht schon" in again
    assert len(db.session.scalars(select(ApiClient)).all()) == 1


def test_revoked_demo_client_gives_way_to_a_new_one(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    make_commune("werneuchen", name="Werneuchen")
    load_demo()
    old = db.session.scalars(select(ApiClient)).one()
    revoke_client(old, origin=Origin.command("test"))
    db.session.commit()
    [line] = load_demo()
    assert TOKEN.search(line)
    names = sorted(db.session.scalars(select(ApiClient.name)))
    assert DEMO_CLIENT_NAME in names and len(names) == 2


def test_no_demo_client_outside_demo_mode(app: Flask) -> None:
    make_commune("werneuchen", name="Werneuchen")
    assert not app.config["DEMO_MODE"]
    [line] = load_demo()
    assert not TOKEN.search(line)
    assert db.session.scalars(select(ApiClient)).all() == []
