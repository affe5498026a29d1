"""Fixtures shared by the whole suite.

The database is SQLite in a temporary folder unless TEST_DATABASE_URL names
another (CI sets it to the PostgreSQL at 127.0.0.1:5432). The schema is created
fresh once per test session; after each test every table is emptied, so tests
are isolated and may commit (servers started by tests see committed rows).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, g, request_started
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from app.config import normalise_database_url
from app.extensions import db, limiter


def _database_url(tmp_root: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    return f"sqlite:///{tmp_root / 'test.db'}"


def _check_reachable(app: Flask) -> None:
    try:
        with app.app_context(), db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
        message = f"test database {url} is unreachable: {exc}"
        if os.environ.get("CI"):
            pytest.exit(message, returncode=3)
        pytest.skip(message)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    root = tmp_path_factory.mktemp("portal")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": _database_url(root),
            "STORAGE_DIR": str(root / "storage"),
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "MAIL_ENABLED": False,
            "SERVER_NAME": None,
            "DEMO_MODE": False,
        }
    )
    _check_reachable(app)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def empty_all_tables() -> None:
    """Delete every row, children first; PostgreSQL does it in one statement."""
    db.session.rollback()
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def _isolated(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    # The limiter is one object for every app: a test that builds another app with rate limits
    # on (create_app's default) switches them on for the suite's app too, and the counts of one
    # test would refuse the requests of the next.
    limiter.enabled = bool(app.config["RATELIMIT_ENABLED"])
    with app.app_context():
        if limiter.enabled:
            limiter.reset()
        yield
        db.session.remove()
        empty_all_tables()


@pytest.fixture(autouse=True)
def _fresh_login_per_request(request: pytest.FixtureRequest) -> Iterator[None]:
    """Forget the cached current user at the start of every test request.

    The suite keeps one app context open for the whole test, and requests of the
    test client reuse it, so ``g`` (where Flask-Login caches the user) would outlive
    a request; in production every request has its own ``g``.
    """
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")

    def forget(sender: Flask, **_extra: object) -> None:
        g.pop("_login_user", None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
