"""The association's pages and the portal's behaviour on errors and in operations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import make_association, make_commune
from flask import Flask, request
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import create_app
from app.content.models import Document, Event, NewsItem, Page
from app.extensions import db
from app.tenancy.models import Association, Commune, Office


def test_portal_home_lists_member_communes_and_offers_search(client: FlaskClient) -> None:
    make_association(description="Der **Zweckverband** der Kommunen.")
    make_commune("wer", name="Werneuchen")
    make_commune("alt", name="Ausgetreten", active=False)
    html = client.get("/").get_data(as_text=True)
    assert "Digitale Kommunen Brandenburg" in html and "<strong>Zweckverband</strong>" in html
    assert 'href="/wer/"' in html and "Werneuchen" in html
    assert "Ausgetreten" not in html
    assert 'action="/search"' in html


def test_portal_search_without_a_query_shows_the_form(client: FlaskClient) -> None:
    html = client.get("/search").get_data(as_text=True)
    assert 'name="q"' in html and "Treffer" not in html


def test_healthz_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["database"]["dialect"] in ("sqlite", "postgresql")


def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # Port 9 (discard) has no PostgreSQL listening: connecting fails at once.
    broken = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=2",
            "STORAGE_DIR": str(tmp_path),
            "RATELIMIT_ENABLED": False,
        }
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    body = json.loads(response.data)
    assert body["status"] == "degraded"
    assert body["database"] == {"status": "unreachable", "dialect": "postgresql"}


def test_an_unexpected_error_shows_the_500_page_without_a_traceback(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode() -> str:
        raise RuntimeError("geheime Einzelheit aus dem Stacktrace")

    monkeypatch.setitem(app.view_functions, "portal.search", explode)
    response = client.get("/search")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Ein Fehler ist aufgetreten" in html and 'class="site-header"' in html
    assert "geheime Einzelheit" not in html and "Traceback" not in html
    assert "geheime Einzelheit" in caplog.text


def test_a_request_body_over_the_limit_gets_a_readable_413_page(tmp_path: Path, app: Flask) -> None:
    limited = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "STORAGE_DIR": str(tmp_path),
            "RATELIMIT_ENABLED": False,
            "MAX_CONTENT_LENGTH": 1024,
            "MAX_FORM_MEMORY_SIZE": 1024,
            "WTF_CSRF_ENABLED": False,
        }
    )

    def upload() -> str:
        return str(len(request.form))

    # Any form a feature offers reads its body like this one does.
    limited.add_url_rule("/upload", "upload", upload, methods=["POST"])
    response = limited.test_client().post("/upload", data={"datei": "x" * 5000})
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "Die gesendeten Daten sind zu groß" in html and 'class="site-footer"' in html


def _counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Association, Commune, Office, Page, NewsItem, Event, Document)
    }


def test_demo_command_loads_everything_once_however_often_it_runs(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["portal", "demo", "--force"])
    assert first.exit_code == 0, first.output
    assert "[tenancy]" in first.output and "[content]" in first.output
    counts = _counts()
    assert counts["Commune"] == 5 and counts["Association"] == 1
    second = runner.invoke(args=["portal", "demo", "--force"])
    assert second.exit_code == 0, second.output
    db.session.expire_all()
    assert _counts() == counts


def test_demo_command_refuses_without_demo_mode(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "DEMO_MODE", False)
    result = app.test_cli_runner().invoke(args=["portal", "demo"])
    assert result.exit_code != 0
    assert "DEMO_MODE" in result.output
    assert _counts()["Commune"] == 0


def test_reindex_command_rebuilds_the_search_index(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["portal", "reindex"])
    assert result.exit_code == 0 and "0 Inhalte indexiert" in result.output
