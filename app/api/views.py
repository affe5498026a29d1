"""``/api/v1``: the JSON interface for the communes' specialized applications.

Every operation but the description (``openapi.json``, ``docs``) needs
``Authorization: Bearer <token>`` of a usable :class:`~app.api.models.ApiClient`; a
client sees only its commune's submissions, narrowed to its offices and services, and
anything else answers 404 exactly as a reference that does not exist. Each call that
reads or changes a submission is in the audit log with the client as the actor.
Errors are ``application/problem+json`` (:mod:`app.api.problems`). The rules live in
:mod:`app.api.services` and the staff workflow; the views translate HTTP.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from jsonschema import Draft202012Validator
from werkzeug.exceptions import BadRequest, HTTPException

from app.api import services
from app.api.models import ApiClient
from app.api.openapi import (
    PROBLEM_TYPES,
    openapi_document,
    reference_operations,
    reference_schemas,
    request_schema,
)
from app.api.problems import ApiProblem, handle_api_problem, handle_http_error, handle_unexpected
from app.api.services import IllegalTransition, InvalidCursor, Problem
from app.api.staff_views import bp as staff_bp
from app.extensions import db, limiter
from app.formspec import data_schema
from app.staff.audit import Origin
from app.staff.inbox.services import StaleSubmission, WorkflowError
from app.staff.models import AuditAction
from app.storage import blob_store
from app.submissions import pdf
from app.submissions.models import Attachment, Submission, SubmissionStatus
from app.submissions.status import download_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: Endpoints that answer without a token: the API's description.
PUBLIC_ENDPOINTS = frozenset({"api.openapi_json", "api.docs"})
#: Largest request body accepted (the bodies are short JSON documents).
MAX_BODY_BYTES = 64 * 1024
REALM = "kommunalportal"


def _rate_key() -> str:
    # Per token when one is presented (its public prefix), else per address.
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    return f"api:{token[:12]}" if token else f"api-addr:{request.remote_addr}"


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_rate_key)(bp)
bp.register_error_handler(ApiProblem, handle_api_problem)
bp.register_error_handler(HTTPException, handle_http_error)
bp.register_error_handler(Exception, handle_unexpected)


# --------------------------------------------------------------------------- authentication


def _unauthorized(detail: str, error: str | None) -> ApiProblem:
    challenge = f'Bearer realm="{REALM}"' + (f', error="{error}"' if error else "")
    return ApiProblem(401, detail, headers={"WWW-Authenticate": challenge})


@bp.before_request
def _authenticate() -> None:
    request.max_content_length = MAX_BODY_BYTES
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized(_("Bitte senden Sie das Token des API-Clients: Authorization: Bearer …"), None)
    client = services.authenticate(token)
    if client is None:
        raise _unauthorized(_("Das Token ist unbekannt, abgelaufen oder gesperrt."), "invalid_token")
    g.api_client = client
    g.api_origin = services.api_origin(
        client, client_address=(request.remote_addr or "")[:45], user_agent=request.user_agent.string
    )


def _client() -> ApiClient:
    client: ApiClient = g.api_client
    return client


def _origin() -> Origin:
    origin: Origin = g.api_origin
    return origin


# --------------------------------------------------------------------------- representation


def _submission_or_404(reference: str) -> Submission:
    submission = services.find_submission(_client(), reference)
    if submission is None:
        raise ApiProblem(404, _("Einen Antrag %(reference)s gibt es hier nicht.", reference=reference[:40]))
    return submission


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def _summary(submission: Submission) -> dict[str, Any]:
    return {
        "reference": submission.reference,
        "status": submission.status.value,
        "service": {"slug": submission.service_slug, "title": submission.service_title},
        "office": {
            "id": submission.office.id,
            "slug": submission.office.slug,
            "name": submission.office.name,
        },
        "submitted_at": submission.submitted_at.isoformat(),
        "version": submission.version,
        "href": _url("api.get_submission", reference=submission.reference),
    }


def _attachment(submission: Submission, attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "field": attachment.field_name,
        "filename": attachment.filename,
        "media_type": attachment.media_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "href": _url("api.get_attachment", reference=submission.reference, attachment_id=attachment.id),
    }


def _representation(submission: Submission) -> dict[str, Any]:
    data = pdf.data_json(submission)
    reference = submission.reference
    pdf_file = None
    if submission.pdf_key and submission.pdf_sha256:
        pdf_file = {
            "href": _url("api.get_pdf", reference=reference),
            "filename": f"{reference}.pdf",
            "media_type": "application/pdf",
            "size": submission.pdf_size or 0,
            "sha256": submission.pdf_sha256,
        }
    return {
        **_summary(submission),
        "form_version": submission.form_version,
        "locale": submission.locale,
        "updated_at": submission.updated_at.isoformat(),
        "completed_at": submission.completed_at.isoformat() if submission.completed_at else None,
        "submitter": {"name": submission.submitter_name, "email": submission.submitter_email},
        "fee_total": str(submission.fee_total) if submission.fee_total is not None else None,
        "data": submission.answers or {},
        "data_file": {
            "href": _url("api.get_data", reference=reference),
            "filename": f"{reference}-data.json",
            "media_type": "application/json",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        "schema_href": _url("api.get_schema", reference=reference),
        "pdf": pdf_file,
        "attachments": [
            _attachment(submission, item) for item in submission.attachments if item.storage_key is not None
        ],
    }


def _submission_response(submission: Submission) -> Response:
    response = jsonify(_representation(submission))
    response.set_etag(str(submission.version))
    response.headers["Cache-Control"] = "no-store"
    return response


def _download(data: bytes, filename: str, media_type: str) -> Response:
    response = download_response(data, filename, media_type)
    response.set_etag(hashlib.sha256(data).hexdigest())
    return response.make_conditional(request)


# --------------------------------------------------------------------------- request input


@lru_cache(maxsize=8)
def _validator(schema: str) -> Draft202012Validator:
    return Draft202012Validator(request_schema(schema))


def _body(schema: str) -> dict[str, Any]:
    """The JSON body, checked against ``schema`` of the OpenAPI document (else 415, 400 or 422)."""
    if not request.is_json:
        raise ApiProblem(415)
    try:
        body = request.get_json()
    except BadRequest as exc:
        raise ApiProblem(400, _("Der Inhalt ist kein gültiges JSON.")) from exc
    errors = sorted(_validator(schema).iter_errors(body), key=lambda error: list(error.absolute_path))
    if errors:
        raise ApiProblem(
            422,
            _("Die Angaben passen nicht zum Schema %(schema)s.", schema=schema),
            errors=[
                {
                    "pointer": "/" + "/".join(str(part) for part in error.absolute_path),
                    "detail": error.message,
                }
                for error in errors
            ],
        )
    result: dict[str, Any] = body
    return result


def _since() -> datetime | None:
    raw = request.args.get("since")
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ApiProblem(
            400, _("since muss eine Zeit nach RFC 3339 mit Zeitzone sein, etwa 2026-07-01T08:00:00Z.")
        )
    return moment


def _status_filter() -> SubmissionStatus | None:
    raw = request.args.get("status")
    if raw is None:
        return None
    try:
        return SubmissionStatus(raw)
    except ValueError as exc:
        raise ApiProblem(
            400,
            _(
                "Unbekannter Status; möglich: %(values)s.",
                values=", ".join(s.value for s in SubmissionStatus),
            ),
        ) from exc


def _limit() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return services.DEFAULT_PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= services.MAX_PAGE_SIZE:
        raise ApiProblem(400, _("limit muss eine Zahl von 1 bis %(most)d sein.", most=services.MAX_PAGE_SIZE))
    return int(raw)


def _check_if_match(submission: Submission) -> None:
    if "If-Match" not in request.headers:
        return
    if request.if_match.star_tag or request.if_match.contains(str(submission.version)):
        return
    raise ApiProblem(
        412,
        _("Der Antrag hat inzwischen die Version %(version)d.", version=submission.version),
        headers={"ETag": f'"{submission.version}"'},
    )


def _refused(error: WorkflowError, pointer: str) -> ApiProblem:
    db.session.rollback()
    if isinstance(error, IllegalTransition | StaleSubmission):
        return ApiProblem(409, str(error))
    return ApiProblem(422, str(error), errors=[{"pointer": pointer, "detail": str(error)}])


# --------------------------------------------------------------------------- description


@bp.get("/openapi.json")
def openapi_json() -> Response:
    response = jsonify(openapi_document(url_for("api.openapi_json").rsplit("/", 1)[0]))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/docs")
def docs() -> str:
    document = openapi_document(url_for("api.openapi_json").rsplit("/", 1)[0])
    return render_template(
        "api/docs.html",
        document=document,
        operations=reference_operations(document),
        schemas=reference_schemas(document),
        problem_types=PROBLEM_TYPES.values(),
    )


# --------------------------------------------------------------------------- reading


@bp.get("/submissions")
def list_submissions() -> Response:
    client = _client()
    status, since, limit = _status_filter(), _since(), _limit()
    cursor = request.args.get("cursor") or None
    try:
        page = services.submission_page(client, status=status, since=since, cursor=cursor, size=limit)
    except InvalidCursor as exc:
        raise ApiProblem(
            400, _("Der Cursor ist ungültig; bitte nutzen Sie next_cursor einer Seite.")
        ) from exc
    services.record_access(
        AuditAction.SUBMISSIONS_LISTED,
        client,
        _origin(),
        count=len(page.submissions),
        status=status.value if status else None,
        since=since.isoformat() if since else None,
    )
    body = {
        "items": [_summary(item) for item in page.submissions],
        "next_cursor": page.next_cursor,
        "has_more": page.has_more,
    }
    db.session.commit()
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/submissions/<reference>")
def get_submission(reference: str) -> Response:
    submission = _submission_or_404(reference)
    services.record_access(AuditAction.SUBMISSION_VIEWED, _client(), _origin(), submission)
    response = _submission_response(submission)
    db.session.commit()
    return response


@bp.get("/submissions/<reference>/pdf")
def get_pdf(reference: str) -> Response:
    submission = _submission_or_404(reference)
    if submission.pdf_key is None:
        raise ApiProblem(404, _("Das PDF dieses Antrags ist noch nicht erstellt."))
    data = blob_store().read(submission.pdf_key)
    services.record_access(AuditAction.DOCUMENT_DOWNLOADED, _client(), _origin(), submission, file="pdf")
    db.session.commit()
    return _download(data, f"{submission.reference}.pdf", "application/pdf")


@bp.get("/submissions/<reference>/data.json")
def get_data(reference: str) -> Response:
    submission = _submission_or_404(reference)
    services.record_access(
        AuditAction.DOCUMENT_DOWNLOADED, _client(), _origin(), submission, file="data.json"
    )
    db.session.commit()
    return _download(pdf.data_json(submission), f"{submission.reference}-data.json", "application/json")


@bp.get("/submissions/<reference>/schema.json")
def get_schema(reference: str) -> Response:
    submission = _submission_or_404(reference)
    schema = data_schema(pdf.service_of(submission))
    body = json.dumps(schema, ensure_ascii=False, indent=2).encode("utf-8")
    db.session.commit()
    return _download(body, f"{submission.reference}-schema.json", "application/schema+json")


@bp.get("/submissions/<reference>/attachments/<int:attachment_id>")
def get_attachment(reference: str, attachment_id: int) -> Response:
    submission = _submission_or_404(reference)
    found = next((item for item in submission.attachments if item.id == attachment_id), None)
    if found is None or found.storage_key is None:
        raise ApiProblem(404, _("Diese Anlage gibt es hier nicht."))
    data = blob_store().read(found.storage_key)
    services.record_access(
        AuditAction.ATTACHMENT_DOWNLOADED,
        _client(),
        _origin(),
        submission,
        attachment=found.id,
        field=found.field_name,
    )
    db.session.commit()
    return _download(data, found.filename, found.media_type)


# --------------------------------------------------------------------------- processing


@bp.post("/submissions/<reference>/acknowledge")
def acknowledge(reference: str) -> Response:
    submission = _submission_or_404(reference)
    _check_if_match(submission)
    try:
        changed = services.acknowledge(submission, _client(), _origin())
    except WorkflowError as error:
        raise _refused(error, "") from error
    if not changed:
        # Nothing changed, but the answer carries the submission: the read is on record.
        services.record_access(
            AuditAction.SUBMISSION_VIEWED, _client(), _origin(), submission, acknowledged_before=True
        )
    db.session.commit()
    return _submission_response(submission)


@bp.post("/submissions/<reference>/reject")
def reject(reference: str) -> Response:
    submission = _submission_or_404(reference)
    body = _body("RejectRequest")
    _check_if_match(submission)
    problems = [Problem(item["title"], item.get("detail", "")) for item in body["problems"]]
    try:
        services.reject(submission, problems, _client(), _origin())
    except WorkflowError as error:
        raise _refused(error, "/problems") from error
    db.session.commit()
    return _submission_response(submission)


@bp.post("/submissions/<reference>/status")
def update_status(reference: str) -> Response:
    submission = _submission_or_404(reference)
    body = _body("StatusRequest")
    _check_if_match(submission)
    target = SubmissionStatus(body["status"])
    try:
        services.update_status(submission, target, body.get("message", ""), _client(), _origin())
    except WorkflowError as error:
        raise _refused(error, "/message") from error
    db.session.commit()
    return _submission_response(submission)


@bp.post("/submissions/<reference>/messages")
def post_message(reference: str) -> tuple[Response, int]:
    submission = _submission_or_404(reference)
    body = _body("MessageRequest")
    _check_if_match(submission)
    try:
        event = services.post_message(submission, body["text"], _client(), _origin())
    except WorkflowError as error:
        raise _refused(error, "/text") from error
    db.session.commit()
    response = jsonify({"id": event.id, "created_at": event.created_at.isoformat(), "text": event.text})
    response.headers["Cache-Control"] = "no-store"
    return response, 201


bps = [bp, staff_bp]
