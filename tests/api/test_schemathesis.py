"""schemathesis against the app's own OpenAPI document, in-process: generated requests
(valid and invalid) to every operation find no server error, and every response keeps to
the document (status code, content type, body schema)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from submission_builders import Place, inbox_answers, make_submission, with_file

from app.api.openapi import PATHS
from app.formspec import ServiceSpec
from app.submissions.models import Submission

from .builders import bearer

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)


@pytest.fixture
def submission(service: ServiceSpec, place: Place) -> Submission:
    """A submission of the token's commune with a PDF and an attachment."""
    return make_submission(service, place.commune, place.office, with_file(inbox_answers()))


@pytest.fixture
def api_schema(app: Flask, submission: Submission) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


#: Every operation of the document. (schemathesis' own pytest loader, ``from_fixture``,
#: needs a pytest-internal attribute that pytest 9 no longer has, so each operation is
#: driven with its Hypothesis strategy here.)
OPERATIONS = [(path, method) for path, methods in PATHS.items() for method in methods]


def _operations(loaded: Any) -> list[Any]:
    return [result.ok() for result in loaded.get_all_operations()]


def test_document_is_valid_openapi_3_1(app: Flask) -> None:
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    assert loaded.raw_schema["openapi"] == "3.1.0"
    loaded.validate()
    assert {(operation.path, operation.method) for operation in _operations(loaded)} == set(OPERATIONS)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_generated_requests(api_schema: Any, token: str, path: str, method: str) -> None:
    """Random references and ids: mostly the problem documents of 4xx answers."""

    @SETTINGS
    @given(case=api_schema[path][method].as_strategy())
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=bearer(token), checks=CHECKS)

    run()


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_generated_requests_on_a_real_submission(
    api_schema: Any, token: str, submission: Submission, path: str, method: str
) -> None:
    """The same with the reference (and attachment) of a stored submission: the success answers."""

    @SETTINGS
    @given(case=api_schema[path][method].as_strategy())
    def run(case: schemathesis.Case) -> None:
        if case.path_parameters and "reference" in case.path_parameters:
            case.path_parameters["reference"] = submission.reference
        if case.path_parameters and "attachment_id" in case.path_parameters:
            case.path_parameters["attachment_id"] = submission.attachments[0].id
        case.call_and_validate(headers=bearer(token), checks=CHECKS)

    run()
