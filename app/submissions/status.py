"""What the submitter sees after sending: the confirmation, the PDF, and the status page.

URLs (under ``/<commune>/status``):

- ``/<reference>/confirmation`` the confirmation page, reached by the redirect after the submit
  (POST-redirect-GET, so a reload shows it again and sends nothing). It is open to the browser
  that submitted: the reference and its tracking token are kept in the signed session cookie.
- ``/<reference>?token=…`` the status page: the current status, the messages meant for the
  citizen, the submission time. A wrong or missing token answers 404 exactly as an unknown
  reference does.
- ``/<reference>/pdf?token=…`` the stored PDF, as a download.

Pages that carry the token are never cached and send no Referer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, abort, redirect, render_template, request, session, url_for
from flask_babel import format_currency
from flask_babel import lazy_gettext as _l
from werkzeug.utils import secure_filename

from app.storage import blob_store
from app.submissions.models import Submission, SubmissionEvent, SubmissionStatus
from app.submissions.pdf import service_of
from app.submissions.services import (
    SubmitOutcome,
    citizen_status_url,
    clean_filename,
    find_for_citizen,
    find_submitted,
)
from app.tenancy.web import commune_blueprint, current_commune

bp = commune_blueprint("status", __name__, "/status")

#: Session key: [reference, tracking token or None] pairs of the submissions made in this browser.
SESSION_KEY = "submitted"
#: How many recent submissions the session remembers for their confirmation pages.
REMEMBERED = 5

STATUS_LABELS: dict[SubmissionStatus, Any] = {
    SubmissionStatus.RECEIVED: _l("Eingegangen"),
    SubmissionStatus.IN_PROGRESS: _l("In Bearbeitung"),
    SubmissionStatus.WAITING: _l("Wartet auf Ihre Rückmeldung"),
    SubmissionStatus.COMPLETED: _l("Abgeschlossen"),
    SubmissionStatus.REJECTED: _l("Abgelehnt"),
}


def _remembered() -> list[list[Any]]:
    return [entry for entry in session.get(SESSION_KEY) or [] if isinstance(entry, list) and len(entry) == 2]


def confirmation_redirect(outcome: SubmitOutcome) -> Response:
    """The answer to a submit: remember it in the session and redirect to its confirmation.

    The token is kept only when this submit created the submission; a repeated submit keeps
    what the first one stored (the confirmation then shows the reference without the links
    if this browser never received the token).
    """
    reference = outcome.submission.reference
    # A list of [reference, token] pairs: the session serialiser sorts dict keys, a list keeps order.
    remembered = _remembered()
    token = outcome.token or next((t for ref, t in remembered if ref == reference), None)
    remembered = [entry for entry in remembered if entry[0] != reference] + [[reference, token]]
    session[SESSION_KEY] = remembered[-REMEMBERED:]
    commune = outcome.submission.commune.slug
    return redirect(url_for("status.confirmation", commune=commune, reference=reference), code=303)


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII name (werkzeug's secure_filename) and the UTF-8 one (RFC 5987)."""
    clean = clean_filename(filename)
    ascii_name = secure_filename(clean) or "download"
    if clean == ascii_name:
        return f'attachment; filename="{ascii_name}"'
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(clean, safe='')}"


def download_response(data: bytes, filename: str, media_type: str) -> Response:
    """Stored bytes as a download: never shown inline, never sniffed, never cached."""
    response = Response(data, mimetype=media_type)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_request
def _token_page_headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _citizen_submission(reference: str) -> tuple[Submission, str]:
    token = request.args.get("token", "")
    submission = find_for_citizen(current_commune(), reference, token)
    if submission is None:
        abort(404)
    return submission, token


def _processing_time(submission: Submission) -> str | None:
    return service_of(submission).processing_time


def _citizen_messages(submission: Submission) -> list[SubmissionEvent]:
    return [event for event in submission.events if event.visible_to_citizen]


@bp.get("/<reference>/confirmation")
def confirmation(reference: str) -> str:
    remembered = dict(_remembered())
    if reference not in remembered:
        abort(404)
    submission = find_submitted(current_commune(), reference)
    if submission is None:
        abort(404)
    token = remembered[reference]
    return render_template(
        "submissions/confirmation.html",
        submission=submission,
        office=submission.office,
        processing_time=_processing_time(submission),
        fee=format_currency(submission.fee_total, "EUR") if submission.fee_total else None,
        token=token,
        status_url=citizen_status_url(submission, token) if token else None,
    )


@bp.get("/<reference>")
def status(reference: str) -> str:
    submission, token = _citizen_submission(reference)
    return render_template(
        "submissions/status/status.html",
        submission=submission,
        office=submission.office,
        status_label=STATUS_LABELS[submission.status],
        events=_citizen_messages(submission),
        processing_time=_processing_time(submission),
        token=token,
    )


@bp.get("/<reference>/pdf")
def pdf(reference: str) -> Response:
    submission, _token = _citizen_submission(reference)
    if submission.pdf_key is None:
        abort(404)
    return download_response(
        blob_store().read(submission.pdf_key), f"{submission.reference}.pdf", "application/pdf"
    )
