"""E-file views: the xdomea export and the file inspection, for staff and for the applicant.

Staff, under ``/staff/<commune>/``:

- ``submissions/<reference>/efile`` — the page of one submission: export as xdomea, grant
  an inspection (documents, period, e-mail), the grants with their access log, revoke;
- ``POST submissions/<reference>/efile/export`` — the submission's xdomea package;
- ``POST efile/export`` — the package of a selection (``reference`` repeated, CSRF token),
  for a selection form on the inbox list;

Every POST needs the CSRF token (the application-wide CSRFProtect answers 400 without it).
- ``POST submissions/<reference>/efile/inspections`` and ``…/inspections/<id>/revoke``.

Anything of a commune or office the user may not see answers 404, as in the inbox.

Applicant, under ``/<commune>/inspection/<token>``: the documents with size and SHA-256,
each served as an attachment (``…/documents/<id>``). The page lives in the commune's part of
the portal like the status page, so the applicant sees whose documents these are and a
token only opens a grant of that commune. Unknown or tampered tokens answer 404; expired
or revoked grants 410 with a page that says so. Neither is cached nor sent as a referrer.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app.delivery.mail import send_after_commit
from app.efile import inspection
from app.efile.forms import ActionForm, GrantForm
from app.efile.models import InspectionDocument, InspectionGrant
from app.efile.package import ExportRefused, build_package
from app.extensions import db
from app.staff import permissions
from app.staff.auth import audit, client_address, commune_scope, current_staff_user, request_origin
from app.staff.inbox.services import find_submission
from app.staff.models import AuditAction, User
from app.staff.permissions import Permission
from app.storage import blob_store
from app.submissions.models import Submission
from app.submissions.status import download_response
from app.tenancy.models import Commune
from app.tenancy.web import commune_blueprint, current_commune
from app.timeutil import utcnow

bp = Blueprint("efile", __name__, url_prefix="/staff/<commune>")
public = commune_blueprint("inspection", __name__, url_prefix="/inspection")
bps = [bp, public]

#: References a selection may name (more than a package may hold gets a message, not a 413).
MAX_SELECTION_FIELDS = 1000


def _user() -> User:
    user = current_staff_user()
    if user is None:
        abort(404)
    return user


def _submission(commune_slug: str, reference: str, permission: Permission) -> tuple[Commune, Submission]:
    commune = commune_scope(commune_slug, Permission.VIEW_SUBMISSIONS)
    submission = find_submission(_user(), commune, reference)
    if submission is None:
        abort(404)
    if not permissions.may(_user(), permission, commune):
        abort(403)
    return commune, submission


def _page_url(commune: Commune, submission: Submission) -> str:
    return url_for("efile.submission_page", commune=commune.slug, reference=submission.reference)


def _grant_form(submission: Submission, *, submitted: bool = False) -> GrantForm:
    """The grant form, from the request when ``submitted``, else blank for the applicant's address."""
    if submitted:
        form = GrantForm()
    else:
        form = GrantForm(formdata=None, recipient=submission.submitter_email, documents=[])
    filesize = current_app.jinja_env.filters["filesize"]
    form.documents.choices = [
        (choice.key, f"{choice.filename} ({filesize(choice.size)})")
        for choice in inspection.document_choices(submission)
    ]
    return form


def _render_page(
    commune: Commune,
    submission: Submission,
    *,
    grant_form: GrantForm | None = None,
    problem: str = "",
    code: int = 200,
) -> tuple[str, int]:
    user = _user()
    return (
        render_template(
            "efile/submission.html",
            submission=submission,
            may_export=permissions.may(user, Permission.EXPORT_SUBMISSIONS, commune),
            may_process=permissions.may(user, Permission.PROCESS_SUBMISSIONS, commune),
            export_form=ActionForm(formdata=None),
            grant_form=grant_form or _grant_form(submission),
            grants=inspection.grants_of(submission),
            now=utcnow(),
            problem=problem,
        ),
        code,
    )


# --------------------------------------------------------------------------- export


def _export(commune: Commune, submissions: list[Submission]) -> Response:
    """The package as a download, audited once per submission; raises ExportRefused."""
    package = build_package(commune, submissions, instance=current_app.config.get("PUBLIC_BASE_URL", ""))
    data = package.zip_bytes()
    for submission in submissions:
        audit(
            AuditAction.SUBMISSION_EXPORTED,
            commune=commune,
            object_type="submission",
            object_id=submission.reference,
            details={
                "format": "xdomea",
                "process_id": str(package.process_id),
                "submissions": len(submissions),
            },
        )
    db.session.commit()
    return download_response(data, package.file_name, "application/zip")


def _refusal_text(error: ExportRefused) -> str:
    if error.references:
        return f"{error.reason} ({', '.join(error.references)})"
    return error.reason


@bp.get("/submissions/<reference>/efile")
def submission_page(commune: str, reference: str) -> tuple[str, int]:
    scope, submission = _submission(commune, reference, Permission.VIEW_SUBMISSIONS)
    return _render_page(scope, submission)


@bp.post("/submissions/<reference>/efile/export")
def export_one(commune: str, reference: str) -> Response | tuple[str, int]:
    scope, submission = _submission(commune, reference, Permission.EXPORT_SUBMISSIONS)
    try:
        return _export(scope, [submission])
    except ExportRefused as error:
        return _render_page(scope, submission, problem=_refusal_text(error), code=409)


@bp.post("/efile/export")
def export_selection(commune: str) -> Response:
    """The package of the submissions named by the ``reference`` fields (from the inbox list)."""
    scope = commune_scope(commune, Permission.EXPORT_SUBMISSIONS)
    user = _user()
    back = url_for("staff_inbox.inbox", commune=scope.slug)
    references = list(
        dict.fromkeys(r.strip() for r in request.form.getlist("reference")[:MAX_SELECTION_FIELDS])
    )
    references = [reference for reference in references if reference]
    submissions = [find_submission(user, scope, reference) for reference in references]
    # A reference the user may not see is treated exactly like one that does not exist.
    if any(found is None for found in submissions):
        abort(404)
    try:
        return _export(scope, [found for found in submissions if found is not None])
    except ExportRefused as error:
        flash(_refusal_text(error), "error")
        return redirect(back)


# --------------------------------------------------------------------------- inspection (staff)


def _uploads(form: GrantForm) -> list[inspection.Upload]:
    storage = form.upload.data
    if storage is None or not getattr(storage, "filename", ""):
        return []
    return [
        inspection.Upload(
            filename=storage.filename,
            media_type=storage.mimetype or "application/octet-stream",
            data=storage.read(),
        )
    ]


@bp.post("/submissions/<reference>/efile/inspections")
def grant(commune: str, reference: str) -> Response | tuple[str, int]:
    scope, submission = _submission(commune, reference, Permission.PROCESS_SUBMISSIONS)
    form = _grant_form(submission, submitted=True)
    if not form.validate_on_submit():
        return _render_page(scope, submission, grant_form=form, code=400)
    try:
        created, token = inspection.create_grant(
            submission,
            recipient=form.recipient.data or "",
            days=form.days.data or 0,
            document_keys=form.documents.data or [],
            uploads=_uploads(form),
            message=form.message.data or "",
            origin=request_origin(),
        )
    except inspection.GrantRefused as error:
        db.session.rollback()
        return _render_page(scope, submission, grant_form=form, problem=str(error), code=400)
    path = url_for("inspection.page", commune=scope.slug, token=token)
    base = current_app.config.get("PUBLIC_BASE_URL", "")
    link = (
        base + path if base else url_for("inspection.page", commune=scope.slug, token=token, _external=True)
    )
    send_after_commit(db.session, inspection.grant_mail(created, link))
    db.session.commit()
    flash(
        _(
            "Die Akteneinsicht ist gewährt; der Link ist an %(email)s unterwegs.",
            email=created.recipient_email,
        ),
        "success",
    )
    return redirect(_page_url(scope, submission))


@bp.post("/submissions/<reference>/efile/inspections/<int:grant_id>/revoke")
def revoke(commune: str, reference: str, grant_id: int) -> Response:
    scope, submission = _submission(commune, reference, Permission.PROCESS_SUBMISSIONS)
    found = inspection.grant_of(submission, grant_id)
    if found is None:
        abort(404)
    if inspection.revoke_grant(found, origin=request_origin()):
        db.session.commit()
        flash(_("Der Link ist widerrufen; die Seite ist ab sofort nicht mehr erreichbar."), "success")
    else:
        flash(_("Der Link war bereits widerrufen."), "info")
    return redirect(_page_url(scope, submission))


# --------------------------------------------------------------------------- inspection (applicant)


@public.after_request
def _token_page_headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _active_grant(token: str) -> InspectionGrant | tuple[str, int]:
    """The grant of the token, or the 410 page when it has ended; 404 when there is none."""
    found = inspection.find_grant(current_commune(), token)
    if found is None:
        abort(404)
    if not found.active_at(utcnow()):
        return render_template(
            "efile/inspection_gone.html", grant=found, revoked=found.revoked_at is not None
        ), 410
    return found


def _log(found: InspectionGrant, document: InspectionDocument | None = None) -> None:
    inspection.log_access(
        found, document, client_address=client_address(), user_agent=request.user_agent.string or ""
    )
    db.session.commit()


@public.get("/<token>")
def page(token: str) -> tuple[str, int]:
    found = _active_grant(token)
    if not isinstance(found, InspectionGrant):
        return found
    _log(found)
    return render_template("efile/inspection.html", grant=found, token=token), 200


@public.get("/<token>/documents/<int:document_id>")
def document(token: str, document_id: int) -> Response | tuple[str, int]:
    found = _active_grant(token)
    if not isinstance(found, InspectionGrant):
        return found
    item = db.session.scalar(
        select(InspectionDocument).where(
            InspectionDocument.id == document_id, InspectionDocument.grant_id == found.id
        )
    )
    store = blob_store()
    if item is None or not store.exists(item.storage_key):
        abort(404)
    _log(found, item)
    return download_response(store.read(item.storage_key), item.filename, item.media_type)
