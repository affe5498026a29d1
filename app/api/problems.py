"""Errors of the API as ``application/problem+json`` (RFC 9457).

Views raise :class:`ApiProblem`; the blueprint's handlers turn it, every HTTP error and
any unexpected exception into a problem document. :func:`problem_for_api_errors`
(an ``after_request`` of the application) converts the errors that never reach the
blueprint — unknown paths and methods under ``/api/`` — the same way.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, json, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from app.api.openapi import PROBLEM_BY_STATUS, PROBLEM_MEDIA_TYPE

log = logging.getLogger(__name__)

#: Headers of an error response that a problem document keeps.
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After", "ETag")
API_PREFIX = "/api/"


class ApiProblem(Exception):
    """An error the API answers with: HTTP status, a German detail, validation errors, headers."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or str(status))
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem document for ``status``; its type links the problem's entry on the reference page."""
    kind = PROBLEM_BY_STATUS.get(status)
    body: dict[str, Any] = {
        "type": url_for("api.docs", _external=True) + f"#problem-{kind.slug}" if kind else "about:blank",
        "title": kind.title if kind else HTTP_STATUS_CODES.get(status, "Fehler"),
        "status": status,
        "detail": detail or (kind.description if kind else HTTP_STATUS_CODES.get(status, "")),
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_api_problem(problem: ApiProblem) -> Response:
    return problem_response(problem.status, problem.detail, errors=problem.errors, headers=problem.headers)


def handle_http_error(error: HTTPException) -> Response:
    """Any HTTP error raised while serving the API (routing, size limits, rate limits)."""
    status = error.code or 500
    kept = {name: value for name, value in error.get_headers() if name in KEPT_HEADERS}
    if error.response is not None:
        kept.update({name: value for name, value in error.response.headers if name in KEPT_HEADERS})
    return problem_response(status, headers=kept)


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem_response(500)


def problem_for_api_errors(response: Response) -> Response:
    """``after_request``: an error under ``/api/`` that is not yet a problem document becomes one."""
    if (
        not request.path.startswith(API_PREFIX)
        or response.status_code < 400
        or response.mimetype == PROBLEM_MEDIA_TYPE
    ):
        return response
    kept = {name: value for name, value in response.headers.items() if name in KEPT_HEADERS}
    return problem_response(response.status_code, headers=kept)
