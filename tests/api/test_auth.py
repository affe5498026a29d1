"""Bearer tokens: only a usable client's token opens the API; every refusal is a 401 problem."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select, update
from submission_builders import Place

from app.api.models import ApiClient
from app.api.services import hash_token
from app.extensions import db
from app.timeutil import utcnow

from .builders import bearer, make_client

LIST = "/api/v1/submissions"


def _assert_unauthorized(response, error: str | None) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 401
    assert response.json["type"].endswith("#problem-unauthorized")
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge)


def test_missing_authorization_is_401_with_challenge(client: FlaskClient, place: Place) -> None:
    _assert_unauthorized(client.get(LIST), None)


def test_other_scheme_or_empty_token_is_401(client: FlaskClient, token: str) -> None:
    _assert_unauthorized(client.get(LIST, headers={"Authorization": f"Basic {token}"}), None)
    _assert_unauthorized(client.get(LIST, headers={"Authorization": "Bearer "}), None)


def test_unknown_or_altered_token_is_401(client: FlaskClient, token: str) -> None:
    _assert_unauthorized(client.get(LIST, headers=bearer("kp_00000000_" + "x" * 43)), "invalid_token")
    _assert_unauthorized(
        client.get(LIST, headers=bearer(token[:-1] + ("A" if token[-1] != "A" else "B"))), "invalid_token"
    )
    _assert_unauthorized(client.get(LIST, headers=bearer("nonsense")), "invalid_token")


def test_expired_token_is_401(client: FlaskClient, place: Place) -> None:
    api_client, token = make_client(place.commune, expires_at=utcnow() + timedelta(days=1))
    assert client.get(LIST, headers=bearer(token)).status_code == 200
    db.session.execute(
        update(ApiClient)
        .where(ApiClient.id == api_client.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    _assert_unauthorized(client.get(LIST, headers=bearer(token)), "invalid_token")


def test_revoked_token_is_401(client: FlaskClient, place: Place) -> None:
    api_client, token = make_client(place.commune)
    assert client.get(LIST, headers=bearer(token)).status_code == 200
    db.session.execute(update(ApiClient).where(ApiClient.id == api_client.id).values(revoked_at=utcnow()))
    db.session.commit()
    _assert_unauthorized(client.get(LIST, headers=bearer(token)), "invalid_token")


def test_token_is_stored_only_as_hash_and_use_is_noted(client: FlaskClient, place: Place) -> None:
    api_client, token = make_client(place.commune)
    assert token.startswith(f"kp_{api_client.token_prefix}_")
    stored = db.session.scalar(select(ApiClient).where(ApiClient.id == api_client.id))
    assert stored is not None
    assert stored.token_hash == hash_token(token) != token
    assert token not in repr(
        db.session.execute(select(ApiClient.__table__)).all()  # every column of every client
    )
    assert stored.last_used_at is None
    assert client.get(LIST, headers=bearer(token)).status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiClient, api_client.id).last_used_at is not None  # type: ignore[union-attr]


def test_description_needs_no_token(client: FlaskClient) -> None:
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200
