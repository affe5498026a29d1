"""Tenant isolation: a token never reaches another commune's submissions, nor, when the client
is scoped, other offices' or services' — and the answer is 404, as for a missing reference."""

from __future__ import annotations

from flask.testing import FlaskClient
from submission_builders import Place, inbox_answers, make_submission, with_file

from app.extensions import db
from app.formspec import ServiceSpec
from app.submissions.models import Submission, SubmissionStatus

from .builders import bearer, make_client

LIST = "/api/v1/submissions"


def _urls(submission: Submission) -> list[tuple[str, str]]:
    base = f"{LIST}/{submission.reference}"
    gets = [base, f"{base}/pdf", f"{base}/data.json", f"{base}/schema.json"]
    gets += [f"{base}/attachments/{item.id}" for item in submission.attachments]
    return [("get", url) for url in gets] + [
        ("post", f"{base}/acknowledge"),
        ("post", f"{base}/reject"),
        ("post", f"{base}/status"),
        ("post", f"{base}/messages"),
    ]


def _bodies(url: str) -> dict[str, object]:
    if url.endswith("/reject"):
        return {"problems": [{"title": "Fehlt"}]}
    if url.endswith("/status"):
        return {"status": "in_progress"}
    if url.endswith("/messages"):
        return {"text": "Hallo"}
    return {}


def _assert_hidden(client: FlaskClient, token: str, submission: Submission) -> None:
    for method, url in _urls(submission):
        kwargs = {"json": _bodies(url)} if method == "post" and _bodies(url) else {}
        response = getattr(client, method)(url, headers=bearer(token), **kwargs)
        assert response.status_code == 404, url
        assert response.mimetype == "application/problem+json"
    assert submission.reference not in {
        item["reference"] for item in client.get(LIST, headers=bearer(token)).json["items"]
    }
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).status is SubmissionStatus.RECEIVED  # type: ignore[union-attr]


def test_token_of_commune_a_never_reaches_commune_b(
    client: FlaskClient, service: ServiceSpec, place: Place, foreign: Place, token: str
) -> None:
    theirs = make_submission(service, foreign.commune, foreign.office, with_file(inbox_answers()))
    ours = make_submission(service, place.commune, place.office)
    _assert_hidden(client, token, theirs)
    assert [item["reference"] for item in client.get(LIST, headers=bearer(token)).json["items"]] == [
        ours.reference
    ]


def test_same_reference_in_another_commune_answers_with_ones_own(
    client: FlaskClient, service: ServiceSpec, place: Place, foreign: Place, token: str
) -> None:
    theirs = make_submission(service, foreign.commune, foreign.office)
    ours = make_submission(service, place.commune, place.office)
    theirs.reference = ours.reference = "X-2026-000001"
    db.session.commit()
    body = client.get(f"{LIST}/X-2026-000001", headers=bearer(token)).json
    assert body["office"]["id"] == ours.office_id != theirs.office_id


def test_office_scope_hides_other_offices(client: FlaskClient, service: ServiceSpec, place: Place) -> None:
    _api_client, token = make_client(place.commune, office_ids=[place.office.id])
    inside = make_submission(service, place.commune, place.office)
    outside = make_submission(service, place.commune, place.other_office, with_file(inbox_answers()))
    _assert_hidden(client, token, outside)
    assert client.get(f"{LIST}/{inside.reference}", headers=bearer(token)).status_code == 200


def test_service_scope_hides_other_services(client: FlaskClient, service: ServiceSpec, place: Place) -> None:
    _api_client, token = make_client(place.commune, service_slugs=["gewerbeanmeldung"])
    hidden = make_submission(service, place.commune, place.office, with_file(inbox_answers()))
    _assert_hidden(client, token, hidden)
    _wide_client, wide = make_client(place.commune, service_slugs=[service.slug])
    assert client.get(f"{LIST}/{hidden.reference}", headers=bearer(wide)).status_code == 200
