"""Every error under /api/ is application/problem+json (RFC 9457): unknown paths and
methods, rate limits and unexpected failures included; and the reference page documents
each problem type the documents link to."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from submission_builders import Place

from app import create_app
from app.api import services
from app.api.openapi import PATHS, PROBLEM_TYPES
from app.extensions import limiter

from .builders import bearer


def _assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body: dict = response.json  # type: ignore[type-arg]
    assert set(body) >= {"type", "title", "status", "detail", "instance"}
    assert body["status"] == status
    return body


def test_unknown_paths_are_404_problems(client: FlaskClient, token: str) -> None:
    for path in ("/api/v1/nothing", "/api/v2/submissions", "/api/", "/api/v1/submissions/X/unknown"):
        body = _assert_problem(client.get(path, headers=bearer(token)), 404)
        assert body["instance"] == path
        assert body["type"].endswith("#problem-not-found")


def test_wrong_method_is_405_problem_with_allow(client: FlaskClient, token: str) -> None:
    response = client.delete("/api/v1/submissions", headers=bearer(token))
    _assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]
    put = client.put("/api/v1/submissions/X/acknowledge", headers=bearer(token))
    _assert_problem(put, 405)
    assert "POST" in put.headers["Allow"]


def test_unexpected_failure_is_500_problem(
    client: FlaskClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(services, "find_submission", broken)
    body = _assert_problem(client.get("/api/v1/submissions/WER-2026-000001", headers=bearer(token)), 500)
    assert "fire" not in body["detail"]


def test_rate_limit_is_429_problem(app: Flask, place: Place, token: str) -> None:
    overrides = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "STORAGE_DIR", "TESTING")}
    limited = create_app(
        {
            **overrides,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "API_RATE_LIMIT": "2 per minute",
            "DEMO_MODE": False,
        }
    )
    try:
        limiter.reset()
        client = limited.test_client()
        codes = [client.get("/api/v1/submissions", headers=bearer(token)).status_code for _ in range(3)]
        last = client.get("/api/v1/submissions", headers=bearer(token))
    finally:
        limiter.reset()
        limiter.enabled = False
    assert codes == [200, 200, 429]
    _assert_problem(last, 429)


def test_reference_page_lists_operations_and_problem_types(client: FlaskClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for methods in PATHS.values():
        for operation in methods.values():
            assert f'id="{operation["operationId"]}"' in html
    for slug in PROBLEM_TYPES:
        assert f'id="problem-{slug}"' in html
    assert 'id="schema-Submission"' in html
    assert "<script" not in html
