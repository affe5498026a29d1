"""The citizen's way through a service's form: one step per page, then "check your answers".

URLs (all under ``/<commune>/services/<service>``):

- ``/apply`` continues where the citizen left off (``?resume=<token>`` opens a
  saved draft from the resume link and restores its cookie);
- ``/apply/<step>`` shows a step (GET) and takes its answers (POST);
- ``/save`` shows the resume link and e-mails it on request;
- ``/check`` shows every answer with a Change link, the fees and the submit button.

The draft is created by the first step's POST, so crawlers following the Start
link create nothing. Its token lives in an HttpOnly, SameSite=Lax cookie scoped
to the service's path; it lasts as long as the draft, so a browser restart keeps it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import CombinedMultiDict, FileStorage
from wtforms import Form, StringField
from wtforms.validators import InputRequired, Length, Regexp

from app.catalogue.services import OfferedService, get_offered_service
from app.delivery.mail import compose_mail, send_after_commit
from app.extensions import db, limiter
from app.formspec import (
    FieldType,
    ServiceSpec,
    StepForm,
    StepSpec,
    bind_step_form,
    inspect_upload,
    step_answers,
    step_form_class,
    summarise,
    visible_steps,
)
from app.i18n import current_language
from app.storage import blob_store
from app.submissions.drafts import (
    DRAFT_COOKIE,
    create_draft,
    draft_lifetime,
    find_draft,
    first_incomplete_step,
    keep_uploads,
    keeping_loaded,
    release_blobs,
    save_step,
    stored_files,
    sync_form_version,
)
from app.submissions.models import Draft
from app.tenancy.web import commune_blueprint, current_commune

bp = commune_blueprint("flow", __name__, "/services/<service>")

#: Name of the honeypot field on the check page: invisible to people, filled by bots.
HONEYPOT_FIELD = "website"
#: The modules of the submission pipeline; until they exist, check is the last page.
PIPELINE_MODULES = frozenset({"app.submissions.services", "app.submissions.status"})
#: Path of the commune's privacy notice in its page tree (a page every commune must have).
PRIVACY_PAGE_PATH = "datenschutz"
#: An address a mail server accepts: one @, a dot in the domain, no spaces or angle brackets.
EMAIL_PATTERN = r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]{2,}$"


class ResumeEmailForm(Form):
    """The e-mail address a citizen wants the resume link sent to."""

    email = StringField(
        _l("E-Mail-Adresse"),
        validators=[
            InputRequired(message=_l("Geben Sie Ihre E-Mail-Adresse ein.")),
            Length(max=254, message=_l("Die E-Mail-Adresse ist zu lang.")),
            Regexp(
                EMAIL_PATTERN,
                message=_l("Geben Sie eine E-Mail-Adresse im Format name@beispiel.de ein."),
            ),
        ],
        description=_l("Wir senden Ihnen nur diesen Link, sonst nichts."),
    )


@bp.after_request
def _no_store(response: Response) -> Response:
    # Answers and resume links are personal: no browser or proxy cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


# --- lookups --------------------------------------------------------------------------


def _service(slug: str) -> OfferedService:
    offered = get_offered_service(current_commune(), slug)
    if offered is None:
        abort(404)
    return offered


def _draft_token() -> str | None:
    return request.cookies.get(DRAFT_COOKIE)


def _open_draft(offered: OfferedService) -> Draft | None:
    """The citizen's unsubmitted draft of this service, brought up to the current form version."""
    draft = find_draft(_draft_token(), current_commune(), offered.slug)
    if draft is None or draft.submission_id is not None:
        return None
    if sync_form_version(draft, offered.spec):
        db.session.commit()
    return draft


def _set_draft_cookie(response: Response, slug: str, token: str) -> Response:
    response.set_cookie(
        DRAFT_COOKIE,
        token,
        max_age=int(draft_lifetime().total_seconds()),
        path=url_for("catalogue.detail", service=slug),
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )
    return response


def _step_url(slug: str, step: str, *, return_to_check: bool = False) -> str:
    if return_to_check:
        return url_for("flow.step", service=slug, step=step, **{"return": "check"})
    return url_for("flow.step", service=slug, step=step)


def _continue_url(offered: OfferedService, draft: Draft | None) -> str:
    """Where the citizen goes on: the first incomplete step, or the check page."""
    pending = first_incomplete_step(offered.spec, draft)
    if pending is not None:
        return _step_url(offered.slug, pending)
    return url_for("flow.check", service=offered.slug)


def _steps(spec: ServiceSpec, answers: dict[str, Any]) -> list[StepSpec]:
    assert spec.form is not None
    return visible_steps(spec.form, answers)


# --- start and resume -----------------------------------------------------------------


@bp.get("/apply")
def start(service: str) -> Response | tuple[str, int]:
    offered = _service(service)
    token = request.args.get("resume")
    if token is None:
        return redirect(_continue_url(offered, _open_draft(offered)))
    draft = find_draft(token, current_commune(), offered.slug)
    if draft is None or draft.submission_id is not None:
        return render_template("submissions/flow/resume_invalid.html", service=offered), 404
    if sync_form_version(draft, offered.spec):
        db.session.commit()
    # The token leaves the address bar at once; from here on the cookie carries it.
    return _set_draft_cookie(redirect(_continue_url(offered, draft)), offered.slug, token)


# --- the steps ------------------------------------------------------------------------


def _store_uploads(answers: dict[str, Any]) -> dict[str, Any]:
    """Replace new uploads in a step's answers by the metadata of the stored blobs."""
    store = blob_store()

    def stored(value: Any) -> Any:
        if isinstance(value, FileStorage):
            info = inspect_upload(value)
            blob = store.put(info.data, session=db.session)
            return info.metadata(blob.key)
        if isinstance(value, list):
            return [stored(item) for item in value]
        return value

    return {name: stored(value) for name, value in answers.items()}


def _valid_new_uploads(form: StepForm) -> dict[str, Any]:
    """New uploads of a step that failed validation elsewhere but passed their own checks."""
    kept = {}
    for name in form.visible_names:
        field = form[name]
        if form.field_specs[name].type is not FieldType.FILE or field.errors:
            continue
        answer = getattr(field, "answer", None)
        uploads = answer if isinstance(answer, list) else [answer]
        if uploads and all(isinstance(upload, FileStorage) for upload in uploads):
            kept[name] = answer
    return kept


def _conditions(form: StepForm, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The show_if of parts that depend on a field of the same step, for conditions.js."""
    found = {}
    for name in names:
        condition = form.condition_of(name)
        if condition is not None:
            found[name] = {
                "field": condition.field,
                "operator": condition.operator.value,
                "values": list(condition.values),
            }
    return found


def _privacy_url() -> str:
    """The commune's privacy notice, which consent fields link to."""
    return url_for("content.page", path=PRIVACY_PAGE_PATH)


def _render_step(
    offered: OfferedService,
    step: StepSpec,
    form: StepForm,
    answers: dict[str, Any],
    *,
    return_to_check: bool,
) -> str:
    steps = _steps(offered.spec, answers)
    names = [s.name for s in steps]
    position = names.index(step.name)
    if return_to_check:
        back_url = url_for("flow.check", service=offered.slug)
    elif position > 0:
        back_url = _step_url(offered.slug, names[position - 1])
    else:
        back_url = url_for("catalogue.detail", service=offered.slug)
    action = _step_url(offered.slug, step.name, return_to_check=return_to_check)
    layout = form.layout()
    return render_template(
        "submissions/flow/step.html",
        service=offered,
        step=step,
        form=form,
        layout=layout,
        fieldset_conditions=_conditions(form, (fieldset.name for fieldset, _fields in layout)),
        field_conditions=_conditions(form, (field.name for _fieldset, fields in layout for field in fields)),
        uploads={
            name: stored_files(answers, name)
            for name, field_spec in form.field_specs.items()
            if field_spec.type is FieldType.FILE
        },
        privacy_url=_privacy_url(),
        position=position + 1,
        step_count=len(steps),
        back_url=back_url,
        action=action,
    )


@bp.route("/apply/<step>", methods=["GET", "POST"])
def step(service: str, step: str) -> Response | str:
    offered = _service(service)
    spec = offered.spec
    assert spec.form is not None
    if spec.form.step(step) is None:
        abort(404)
    draft = _open_draft(offered)
    answers: dict[str, Any] = dict(draft.answers) if draft is not None else {}

    # A step may only be shown once every visible step before it is complete;
    # a hidden step, or one reached by editing the URL, sends the citizen on.
    names = [s.name for s in _steps(spec, answers)]
    pending = first_incomplete_step(spec, draft)
    if step not in names or (pending is not None and names.index(step) > names.index(pending)):
        return redirect(_continue_url(offered, draft))
    current = spec.form.step(step)
    assert current is not None
    return_to_check = request.args.get("return") == "check"
    form_class = step_form_class(spec, step, _l, current_language)

    if request.method == "GET":
        form = bind_step_form(form_class, None, answers)
        return _render_step(offered, current, form, answers, return_to_check=return_to_check)

    form = bind_step_form(form_class, CombinedMultiDict((request.files, request.form)), answers)
    token = _draft_token()
    if not form.validate():
        kept = _valid_new_uploads(form)
        if not kept:
            return _render_step(offered, current, form, answers, return_to_check=return_to_check)
        # Files that passed their own checks are kept, so an error elsewhere on the step
        # does not make the citizen upload them again; the step stays incomplete.
        if draft is None:
            draft, token = create_draft(current_commune(), spec, locale=current_language())
        released = keep_uploads(draft, _store_uploads(kept))
        db.session.commit()
        release_blobs(released)
        page = _render_step(offered, current, form, draft.answers, return_to_check=return_to_check)
        assert token is not None
        return _set_draft_cookie(make_response(page), offered.slug, token)

    if draft is None:
        draft, token = create_draft(current_commune(), spec, locale=current_language())
    new_answers = _store_uploads(step_answers(spec, step, form, answers))
    released = save_step(draft, spec, step, new_answers, locale=current_language())
    with keeping_loaded():
        db.session.commit()
    release_blobs(released)

    if request.form.get("action") == "save":
        target = url_for("flow.save", service=offered.slug)
    else:
        target = _next_url(offered, draft, step, return_to_check=return_to_check)
    assert token is not None
    return _set_draft_cookie(redirect(target), offered.slug, token)


def _next_url(offered: OfferedService, draft: Draft, step: str, *, return_to_check: bool) -> str:
    """After Continue: the check page when coming from it (if nothing is missing), else
    the next visible step, else the check page."""
    if return_to_check:
        return _continue_url(offered, draft)
    names = [s.name for s in _steps(offered.spec, draft.answers)]
    position = names.index(step) if step in names else -1
    if 0 <= position < len(names) - 1:
        return _step_url(offered.slug, names[position + 1])
    return _continue_url(offered, draft)


# --- save and continue later ----------------------------------------------------------


def _resume_url(slug: str, token: str) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL")
    path = url_for("flow.start", service=slug, resume=token)
    return f"{base}{path}" if base else url_for("flow.start", service=slug, resume=token, _external=True)


def _send_resume_link(offered: OfferedService, draft: Draft, email: str, link: str) -> None:
    commune = current_commune()
    body = render_template(
        "submissions/flow/resume_email.txt",
        service=offered,
        commune=commune,
        link=link,
        expires_at=draft.expires_at,
    )
    subject = _("Ihr gespeicherter Antrag: %(title)s", title=_(offered.title))
    send_after_commit(db.session, compose_mail(email, subject, body))


@bp.route("/save", methods=["GET", "POST"])
def save(service: str) -> Response | str | tuple[str, int]:
    offered = _service(service)
    draft = _open_draft(offered)
    token = _draft_token()
    if draft is None or token is None:
        return redirect(url_for("flow.start", service=offered.slug))
    link = _resume_url(offered.slug, token)
    form = ResumeEmailForm(request.form if request.method == "POST" else None)
    if request.method == "POST":
        if not form.validate():
            return render_template(
                "submissions/flow/save.html", service=offered, draft=draft, link=link, form=form
            ), 200
        email = (form.email.data or "").strip()
        draft.resume_email = email
        _send_resume_link(offered, draft, email, link)
        db.session.commit()
        return render_template(
            "submissions/flow/save.html",
            service=offered,
            draft=draft,
            link=link,
            form=ResumeEmailForm(),
            sent_to=email,
        ), 200
    return render_template("submissions/flow/save.html", service=offered, draft=draft, link=link, form=form)


# --- check your answers and submit ----------------------------------------------------


def _render_check(
    offered: OfferedService, draft: Draft, *, notice: str | None = None, status: int = 200
) -> tuple[str, int]:
    sections = summarise(offered.spec, draft.answers, gettext=_l, locale=current_language())
    last_step = _steps(offered.spec, draft.answers)[-1].name
    return (
        render_template(
            "submissions/flow/check.html",
            service=offered,
            back_url=_step_url(offered.slug, last_step),
            sections=sections,
            fees=offered.fees(draft.answers),
            honeypot_field=HONEYPOT_FIELD,
            notice=notice,
        ),
        status,
    )


def _submitted_draft(offered: OfferedService) -> Draft | None:
    draft = find_draft(_draft_token(), current_commune(), offered.slug)
    return draft if draft is not None and draft.submission_id is not None else None


def _submit_limit() -> str:
    return str(current_app.config.get("SUBMIT_RATE_LIMIT", "10 per minute"))


@bp.route("/check", methods=["GET", "POST"])
@limiter.limit(_submit_limit, methods=["POST"])
def check(service: str) -> Response | tuple[str, int]:
    offered = _service(service)
    draft = _open_draft(offered)
    if draft is None and request.method == "POST":
        # Submitted already (a double click, or Back and submit again): the pipeline
        # recognises the draft and answers with the submission made the first time.
        draft = _submitted_draft(offered)
        if draft is not None:
            return _submit(offered, draft)
    if draft is None:
        return redirect(url_for("flow.start", service=offered.slug))
    pending = first_incomplete_step(offered.spec, draft)
    if pending is not None:
        return redirect(_step_url(offered.slug, pending))
    if request.method == "GET":
        return _render_check(offered, draft)
    if request.form.get(HONEYPOT_FIELD):
        # Only bots fill the invisible field; they get the page back, unsent, and learn nothing.
        return _render_check(
            offered,
            draft,
            notice=_(
                "Ihr Antrag wurde nicht abgesendet. Bitte prüfen Sie Ihre Angaben und "
                "senden Sie ihn erneut ab."
            ),
        )
    return _submit(offered, draft)


def _submit(offered: OfferedService, draft: Draft) -> Response | tuple[str, int]:
    """Hand a complete, clean draft to the submission pipeline."""
    try:
        from app.submissions.services import IncompleteDraft, ServiceNotOffered, submit_draft
        from app.submissions.status import confirmation_redirect
    except ModuleNotFoundError as exc:
        if exc.name not in PIPELINE_MODULES:
            raise
        return _render_check(
            offered,
            draft,
            notice=_("Das Absenden ist noch nicht möglich. Ihre Angaben bleiben gespeichert."),
            status=503,
        )
    draft_id = draft.id
    try:
        outcome = submit_draft(draft, locale=current_language(), offered=offered)
    except ServiceNotOffered:
        abort(404)
    except IncompleteDraft as exc:
        # The pipeline found what this page could not see (a vanished upload, a changed
        # form): those steps must be walked again.
        reopened = db.session.get(Draft, draft_id)
        if reopened is not None:
            reopened.completed_steps = [s for s in reopened.completed_steps or [] if s not in exc.steps]
            db.session.commit()
        return redirect(
            _step_url(offered.slug, exc.steps[0])
            if exc.steps
            else url_for("flow.start", service=offered.slug)
        )
    return confirmation_redirect(outcome)
