"""The upload page of the e-invoice service: ``/<commune>/services/e-rechnung/upload``.

GET shows the form with the commune's Leitweg-IDs; POST checks the invoice and, when it is
valid, answers like a submitted form (POST-redirect-GET to the shared confirmation page); an
invalid one is answered with the validation report in plain words, and nothing is stored.
"""

from __future__ import annotations

from flask import Response, abort, current_app, flash, render_template, url_for
from flask_babel import get_locale, ngettext

from app.einvoice.forms import InvoiceUploadForm
from app.einvoice.services import (
    MAX_INVOICE_BYTES,
    SERVICE_SLUG,
    InvoiceRefused,
    InvoiceServiceUnavailable,
    accept_invoice,
    invoice_service,
)
from app.einvoice.validation import ValidationReport
from app.extensions import limiter
from app.submissions.flow import PRIVACY_PAGE_PATH
from app.submissions.status import confirmation_redirect
from app.tenancy.web import commune_blueprint, current_commune

bp = commune_blueprint("einvoice", __name__, f"/services/{SERVICE_SLUG}")


def _upload_limit() -> str:
    return str(current_app.config.get("SUBMIT_RATE_LIMIT", "10 per minute"))


def _render(
    form: InvoiceUploadForm, report: ValidationReport | None = None, code: int = 200
) -> tuple[str, int]:
    offered = invoice_service(current_commune())
    if offered is None:
        abort(404)
    return (
        render_template(
            "einvoice/upload.html",
            form=form,
            service=offered.spec,
            office=offered.office,
            leitweg_ids=current_commune().leitweg_ids or [],
            report=report,
            max_megabytes=MAX_INVOICE_BYTES // (1024 * 1024),
            privacy_url=url_for("content.page", path=PRIVACY_PAGE_PATH),
        ),
        code,
    )


@bp.route("/upload", methods=["GET", "POST"])
@limiter.limit(_upload_limit, methods=["POST"])
def upload() -> Response | tuple[str, int]:
    form = InvoiceUploadForm()
    if not form.validate_on_submit():
        return _render(form, code=400 if form.is_submitted() else 200)
    file = form.invoice.data
    try:
        outcome = accept_invoice(
            current_commune(),
            file.read(MAX_INVOICE_BYTES + 1),
            file.filename or "",
            email=form.email.data or "",
            locale=str(get_locale() or "de"),
        )
    except InvoiceServiceUnavailable:
        abort(404)
    except InvoiceRefused as refused:
        return _render(form, refused.report, 422)
    warnings = outcome.report.warnings
    if warnings:
        flash(
            ngettext(
                "Die Rechnung ist angenommen. Die Prüfung ergab einen Hinweis, der die Annahme "
                "nicht hindert.",
                "Die Rechnung ist angenommen. Die Prüfung ergab %(num)d Hinweise, die die Annahme "
                "nicht hindern.",
                len(warnings),
            ),
            "info",
        )
    return confirmation_redirect(outcome.submit_outcome)
