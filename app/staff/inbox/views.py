"""The inbox, the submission detail, its downloads, the workflow forms and the exports.

URLs under ``/staff/<commune>/``: ``inbox`` (+ ``inbox/export.csv``, ``inbox/export.xlsx``),
``submissions/<reference>`` (+ ``/pdf``, ``/data.json``, ``/attachments/<id>``,
``/export.zip``, and the POSTs ``/status``, ``/assign``, ``/notes``, ``/messages``,
``/deliveries/<id>/retry``). Anything of a commune or office the user may not see answers
404, exactly as a reference that does not exist. Views are thin: the queries and the rules
live in :mod:`app.staff.inbox.services`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.delivery.services import attempt_after_commit, deliveries_for_submission
from app.extensions import db
from app.formspec import summarise
from app.staff import permissions
from app.staff.auth import audit, commune_scope, current_staff_user, office_scope, request_origin
from app.staff.inbox import exports, services
from app.staff.inbox.forms import (
    ASSIGNED_TO_ME,
    UNASSIGNED,
    ActionForm,
    AssignForm,
    InboxFilterForm,
    MessageForm,
    NoteForm,
    StatusForm,
)
from app.staff.inbox.services import InboxFilter, SortOrder, StaleSubmission, WorkflowError
from app.staff.models import AuditAction, User
from app.staff.permissions import Permission
from app.storage import blob_store
from app.submissions.models import Attachment, Submission, SubmissionStatus
from app.submissions.pdf import service_of
from app.submissions.status import download_response
from app.tenancy.models import Commune
from app.timeutil import BERLIN, utcnow

bp = Blueprint("staff_inbox", __name__, url_prefix="/staff/<commune>")


def _user() -> User:
    user = current_staff_user()
    if user is None:
        abort(404)
    return user


def _submission(commune_slug: str, reference: str, permission: Permission) -> tuple[Commune, Submission]:
    commune = commune_scope(commune_slug, Permission.VIEW_SUBMISSIONS)
    submission = services.find_submission(_user(), commune, reference)
    if submission is None:
        abort(404)
    if not permissions.may(_user(), permission, commune):
        abort(403)
    return commune, submission


def _audit(action: AuditAction, commune: Commune, submission: Submission, **details: Any) -> None:
    audit(action, commune=commune, object_type="submission", object_id=submission.reference, details=details)


# --------------------------------------------------------------------------- the inbox


def _day_start(day: Any) -> datetime | None:
    return datetime.combine(day, clock_time.min, tzinfo=BERLIN) if day is not None else None


def _filter_form(user: User, commune: Commune) -> InboxFilterForm:
    form = InboxFilterForm(request.args)
    offices = permissions.visible_offices(user, commune)
    form.office.choices = [
        SelectChoice("", _("Alle meine Fachämter")),
        *(SelectChoice(str(o.id), o.name) for o in offices),
    ]
    form.service.choices = [
        SelectChoice("", _("Alle")),
        *(SelectChoice(slug, title) for slug, title in services.services_in_inbox(commune)),
    ]
    form.assignee.choices = [
        SelectChoice("", _("Alle")),
        SelectChoice(ASSIGNED_TO_ME, _("mir zugewiesen")),
        SelectChoice(UNASSIGNED, _("nicht zugewiesen")),
        *(SelectChoice(str(person.id), person.name) for person in services.colleagues(user, commune)),
    ]
    return form


def _assignee_id(user: User, value: str) -> int | None:
    if value == ASSIGNED_TO_ME:
        return user.id
    return int(value) if value.isdigit() else None


def _criteria(user: User, commune: Commune, form: InboxFilterForm) -> InboxFilter:
    """The filter the query string asks for; an office the user may not see answers 404."""
    office_id = None
    requested_office = request.args.get("office", "")
    if requested_office:
        # Before validation: a foreign office must answer 404, not a form error naming it.
        office_id = office_scope(commune, requested_office[:20]).id
    if not request.args or not form.validate():
        return InboxFilter()
    until = _day_start(form.until.data)
    return InboxFilter(
        office_id=office_id,
        status=SubmissionStatus(form.status.data) if form.status.data else None,
        service_slug=form.service.data or None,
        assignee_id=_assignee_id(user, form.assignee.data or ""),
        unassigned=form.assignee.data == UNASSIGNED,
        since=_day_start(form.since.data),
        until=until + timedelta(days=1) if until is not None else None,
        query=(form.q.data or "").strip(),
        sort=SortOrder(form.sort.data or SortOrder.NEWEST.value),
    )


def _filter_args() -> dict[str, str]:
    keys = {"q", "status", "service", "office", "assignee", "since", "until", "sort"}
    return {key: value for key, value in request.args.items() if key in keys and value}


@bp.get("/inbox")
def inbox(commune: str) -> str:
    scope = commune_scope(commune, Permission.VIEW_SUBMISSIONS)
    user = _user()
    form = _filter_form(user, scope)
    criteria = _criteria(user, scope, form)
    page = services.inbox_page(
        user, scope, criteria, after=request.args.get("after"), before=request.args.get("before")
    )
    counts = services.status_counts(user, scope, criteria)
    filters = _filter_args()

    def page_url(**changes: str) -> str:
        return url_for("staff_inbox.inbox", commune=scope.slug, **{**filters, **changes})

    status_links = [
        (status, services.status_label(status), counts[status], page_url(status=status.value))
        for status in SubmissionStatus
    ]
    return render_template(
        "staff/inbox/inbox.html",
        form=form,
        page=page,
        total=sum(min(count, services.COUNT_LIMIT) for count in counts.values()),
        total_capped=any(count > services.COUNT_LIMIT for count in counts.values()),
        count_limit=services.COUNT_LIMIT,
        status_links=status_links,
        now=utcnow(),
        next_url=page_url(after=page.next_cursor) if page.next_cursor else None,
        previous_url=page_url(before=page.previous_cursor) if page.previous_cursor else None,
        first_url=url_for("staff_inbox.inbox", commune=scope.slug, **filters),
        csv_url=url_for("staff_inbox.export_list", commune=scope.slug, fmt="csv", **filters),
        xlsx_url=url_for("staff_inbox.export_list", commune=scope.slug, fmt="xlsx", **filters),
        may_export=permissions.may(user, Permission.EXPORT_SUBMISSIONS, scope),
        service_chosen=bool(criteria.service_slug),
    )


@bp.get("/inbox/export.<any(csv, xlsx):fmt>")
def export_list(commune: str, fmt: str) -> Response:
    scope = commune_scope(commune, Permission.EXPORT_SUBMISSIONS)
    user = _user()
    form = _filter_form(user, scope)
    criteria = _criteria(user, scope, form)
    if not criteria.service_slug:
        flash(_("Bitte wählen Sie zuerst eine Leistung: die Liste wird je Leistung exportiert."), "error")
        return redirect(url_for("staff_inbox.inbox", commune=scope.slug, **_filter_args()))
    title = dict(services.services_in_inbox(scope)).get(criteria.service_slug, criteria.service_slug)
    audit(
        AuditAction.SUBMISSIONS_LIST_EXPORTED,
        commune=scope,
        object_type="service",
        object_id=criteria.service_slug,
        details={"format": fmt, "filters": _filter_args()},
    )
    db.session.commit()
    export = exports.list_export(user, scope, criteria)
    stamp = utcnow().astimezone(BERLIN).strftime("%Y-%m-%d")
    filename = f"{criteria.service_slug}-{stamp}.{fmt}"
    if fmt == "xlsx":
        return download_response(
            exports.xlsx_bytes(export, title),
            filename,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = download_response(b"", filename, "text/csv; charset=utf-8")
    response.response = stream_with_context(exports.csv_chunks(export))
    return response


# --------------------------------------------------------------------------- one submission


def _answers(submission: Submission) -> list[Any]:
    return summarise(service_of(submission), submission.answers or {}, _, "de")


def _render_detail(
    commune: Commune,
    submission: Submission,
    *,
    status_form: StatusForm | None = None,
    assign_form: AssignForm | None = None,
    note_form: NoteForm | None = None,
    message_form: MessageForm | None = None,
    problem: str | None = None,
    code: int = 200,
) -> tuple[str, int]:
    user = _user()
    version = submission.version
    targets = services.allowed_targets(submission.status)
    status_form = status_form or StatusForm(formdata=None, version=version, prefix="status")
    status_form.status.choices = [SelectChoice(s.value, services.status_label(s)) for s in targets]
    colleagues = services.assignable_users(submission)
    assign_form = assign_form or AssignForm(formdata=None, version=version, prefix="assign")
    assign_form.assignee.choices = [
        SelectChoice("", _("Bitte wählen")),
        *(SelectChoice(str(person.id), person.name) for person in colleagues),
        SelectChoice(UNASSIGNED, _("niemandem (Zuweisung aufheben)")),
    ]
    assignee = db.session.get(User, submission.assignee_id) if submission.assignee_id else None
    return (
        render_template(
            "staff/inbox/detail.html",
            submission=submission,
            sections=_answers(submission),
            deliveries=deliveries_for_submission(submission.id),
            events=list(submission.events),
            status_label=services.status_label(submission.status),
            assignee=assignee,
            may_process=permissions.may(user, Permission.PROCESS_SUBMISSIONS, commune),
            may_export=permissions.may(user, Permission.EXPORT_SUBMISSIONS, commune),
            may_take=any(person.id == user.id for person in colleagues) and submission.assignee_id != user.id,
            targets=targets,
            status_form=status_form,
            assign_form=assign_form,
            note_form=note_form or NoteForm(formdata=None, prefix="note"),
            message_form=message_form or MessageForm(formdata=None, prefix="message"),
            action_form=ActionForm(formdata=None),
            problem=problem,
            event_labels={kind.value: str(label) for kind, label in services.EVENT_LABELS.items()},
            status_labels={status.value: str(label) for status, label in services.STATUS_LABELS.items()},
        ),
        code,
    )


@bp.get("/submissions/<reference>")
def detail(commune: str, reference: str) -> tuple[str, int]:
    scope, submission = _submission(commune, reference, Permission.VIEW_SUBMISSIONS)
    _audit(AuditAction.SUBMISSION_VIEWED, scope, submission)
    db.session.commit()
    return _render_detail(scope, submission)


@bp.get("/submissions/<reference>/pdf")
def pdf(commune: str, reference: str) -> Response:
    scope, submission = _submission(commune, reference, Permission.VIEW_SUBMISSIONS)
    if submission.pdf_key is None:
        abort(404)
    _audit(AuditAction.DOCUMENT_DOWNLOADED, scope, submission, file="pdf")
    db.session.commit()
    return download_response(
        blob_store().read(submission.pdf_key), f"{submission.reference}.pdf", "application/pdf"
    )


@bp.get("/submissions/<reference>/data.json")
def data_json(commune: str, reference: str) -> Response:
    scope, submission = _submission(commune, reference, Permission.VIEW_SUBMISSIONS)
    _audit(AuditAction.DOCUMENT_DOWNLOADED, scope, submission, file="data.json")
    db.session.commit()
    return download_response(
        exports.json_bytes(submission.answers or {}), f"{submission.reference}-data.json", "application/json"
    )


@bp.get("/submissions/<reference>/attachments/<int:attachment_id>")
def attachment(commune: str, reference: str, attachment_id: int) -> Response:
    scope, submission = _submission(commune, reference, Permission.VIEW_SUBMISSIONS)
    found = db.session.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.submission_id == submission.id)
    )
    if found is None or found.storage_key is None:
        abort(404)
    _audit(AuditAction.ATTACHMENT_DOWNLOADED, scope, submission, attachment=found.id, field=found.field_name)
    db.session.commit()
    return download_response(blob_store().read(found.storage_key), found.filename, found.media_type)


@bp.get("/submissions/<reference>/export.zip")
def export_zip(commune: str, reference: str) -> Response:
    scope, submission = _submission(commune, reference, Permission.EXPORT_SUBMISSIONS)
    data = exports.submission_zip(submission)
    _audit(AuditAction.SUBMISSION_EXPORTED, scope, submission, format="zip")
    db.session.commit()
    return download_response(data, exports.archive_name(submission), "application/zip")


# --------------------------------------------------------------------------- workflow


def _done(commune: Commune, submission: Submission, message: str) -> Response:
    flash(message, "success")
    return redirect(url_for("staff_inbox.detail", commune=commune.slug, reference=submission.reference))


def _refused(commune: Commune, submission: Submission, error: WorkflowError, **forms: Any) -> tuple[str, int]:
    db.session.rollback()
    fresh = db.session.get(Submission, submission.id, populate_existing=True)
    assert fresh is not None
    code = 409 if isinstance(error, StaleSubmission) else 400
    if isinstance(error, StaleSubmission):
        # The forms must carry the current version now that the clerk has seen the change.
        forms = {name: form for name, form in forms.items() if name not in ("status_form", "assign_form")}
    return _render_detail(commune, fresh, problem=str(error), code=code, **forms)


@bp.post("/submissions/<reference>/status")
def change_status(commune: str, reference: str) -> Response | tuple[str, int]:
    scope, submission = _submission(commune, reference, Permission.PROCESS_SUBMISSIONS)
    form = StatusForm(prefix="status")
    if not form.validate_on_submit():
        return _render_detail(scope, submission, status_form=form, code=400)
    target = SubmissionStatus(form.status.data)
    try:
        services.change_status(
            submission,
            target,
            expected_version=form.version.data,
            message=form.message.data or "",
            origin=request_origin(),
        )
    except WorkflowError as error:
        return _refused(scope, submission, error, status_form=form)
    db.session.commit()
    label = services.status_label(target)
    return _done(scope, submission, _("Der Status ist jetzt „%(status)s“.", status=label))


@bp.post("/submissions/<reference>/assign")
def assign(commune: str, reference: str) -> Response | tuple[str, int]:
    scope, submission = _submission(commune, reference, Permission.PROCESS_SUBMISSIONS)
    form = AssignForm(prefix="assign")
    colleagues = {str(person.id): person for person in services.assignable_users(submission)}
    form.assignee.choices = [
        *(SelectChoice(key, person.name) for key, person in colleagues.items()),
        SelectChoice(UNASSIGNED, _("niemandem")),
    ]
    if not form.validate_on_submit():
        return _render_detail(scope, submission, assign_form=form, code=400)
    assignee = colleagues.get(form.assignee.data or "")
    try:
        services.assign(submission, assignee, expected_version=form.version.data, origin=request_origin())
    except WorkflowError as error:
        return _refused(scope, submission, error, assign_form=form)
    db.session.commit()
    if assignee is None:
        return _done(scope, submission, _("Die Zuweisung ist aufgehoben."))
    return _done(scope, submission, _("Der Antrag ist %(name)s zugewiesen.", name=assignee.name))


@bp.post("/submissions/<reference>/notes")
def add_note(commune: str, reference: str) -> Response | tuple[str, int]:
    scope, submission = _submission(commune, reference, Permission.PROCESS_SUBMISSIONS)
    form = NoteForm(prefix="note")
    if not form.validate_on_submit():
        return _render_detail(scope, submission, note_form=form, code=400)
    try:
        services.add_note(submission, form.note.data or "", origin=request_origin())
    except WorkflowError as error:
        return _refused(scope, submission, error, note_form=form)
    db.session.commit()
    return _done(scope, submission, _("Die Notiz ist gespeichert."))


@bp.post("/submissions/<reference>/messages")
def send_message(commune: str, reference: str) -> Response | tuple[str, int]:
    scope, submission = _submission(commune, reference, Permission.PROCESS_SUBMISSIONS)
    form = MessageForm(prefix="message")
    if not form.validate_on_submit():
        return _render_detail(scope, submission, message_form=form, code=400)
    try:
        services.send_message(submission, form.message.data or "", origin=request_origin())
    except WorkflowError as error:
        return _refused(scope, submission, error, message_form=form)
    db.session.commit()
    return _done(scope, submission, _("Die Nachricht ist gesendet."))


@bp.post("/submissions/<reference>/deliveries/<int:delivery_id>/retry")
def retry_delivery(commune: str, reference: str, delivery_id: int) -> Response | tuple[str, int]:
    scope, submission = _submission(commune, reference, Permission.PROCESS_SUBMISSIONS)
    if not ActionForm().validate_on_submit():
        return _render_detail(scope, submission, problem=_("Das Formular ist abgelaufen."), code=400)
    if delivery_id not in {delivery.id for delivery in deliveries_for_submission(submission.id)}:
        abort(404)
    try:
        services.retry(submission, delivery_id, origin=request_origin())
    except WorkflowError as error:
        return _refused(scope, submission, error)
    db.session.commit()
    attempt_after_commit([delivery_id])
    return _done(scope, submission, _("Die Zustellung wird erneut versucht."))
