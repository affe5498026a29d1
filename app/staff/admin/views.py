"""The administration screens: a commune's settings, offices, users and services; the association's.

Three blueprints: ``staff_admin`` under ``/staff/<commune>`` (commune admins, and
association admins in any commune), ``staff_association`` under
``/staff/association`` (association admins only; everybody else gets 404) and
``staff_invitation`` at ``/invitation/<token>`` (outside ``/staff/``, because the
invited person has no session yet).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from app.catalogue.models import CommuneService
from app.extensions import db
from app.formspec import ServiceSpec, bind_step_form, step_form_class
from app.staff import permissions
from app.staff.admin import services, setup
from app.staff.admin.forms import (
    ActionForm,
    CoatOfArmsForm,
    CommuneForm,
    InviteForm,
    NewCommuneForm,
    OfficeForm,
    ProfileForm,
    ServiceForm,
    SetPasswordForm,
    SwitchForm,
    UserFilterForm,
    UserForm,
    add_error,
    office_kind_label,
    role_choices,
)
from app.staff.admin.services import AdminError
from app.staff.admin.webhooks import ProbeResult, WebhookUrlError, check_target_url, probe_payload, send_probe
from app.staff.auth import (
    association_scope,
    commune_scope,
    current_staff_user,
    end_session,
    request_origin,
)
from app.staff.models import Role, User
from app.staff.passwords import PasswordPolicyError
from app.staff.permissions import Permission
from app.tenancy.models import Commune, Office
from app.tenancy.services import find_commune

bp = Blueprint("staff_admin", __name__, url_prefix="/staff/<commune>")
association_bp = Blueprint("staff_association", __name__, url_prefix="/staff/association")
invitation_bp = Blueprint("staff_invitation", __name__)
bps = [bp, association_bp, invitation_bp]

bp.record_once(lambda state: setup.init_app(state.app))


@bp.before_app_request
def _turn_away_staff_of_deactivated_communes() -> Response | None:
    """Staff of a deactivated commune cannot work in the portal: their session ends."""
    if not request.path.startswith("/staff/"):
        return None
    user = current_staff_user()
    if not services.staff_blocked(user):
        return None
    end_session()
    flash(
        _("Ihre Kommune ist im Portal deaktiviert. Bitte wenden Sie sich an die Verbandsadministration."),
        "error",
    )
    return redirect(url_for("staff.login"))


def _invitation_link(token: str) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL", "")
    path = url_for("staff_invitation.accept", token=token)
    return base + path if base else url_for("staff_invitation.accept", token=token, _external=True)


def _apply(form: Any, error: AdminError | PasswordPolicyError) -> None:
    db.session.rollback()
    add_error(form, getattr(error, "field", None), str(error))


# -- the commune's profile ----------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
def settings(commune: str) -> Response | str:
    scope = commune_scope(commune, Permission.MANAGE_COMMUNE)
    form = ProfileForm(obj=scope)
    if request.method == "GET":
        form.leitweg_ids.data = "\n".join(scope.leitweg_ids or [])
    arms_form = CoatOfArmsForm(prefix="arms")
    if form.validate_on_submit():
        values = {key: getattr(form, key).data for key in services.PROFILE_FIELDS}
        values = {key: value if value is not None else "" for key, value in values.items()}
        try:
            changes = services.update_profile(scope, values, origin=request_origin())
        except AdminError as error:
            _apply(form, error)
        else:
            db.session.commit()
            flash(
                _("Die Angaben wurden gespeichert.") if changes else _("Es gab nichts zu ändern."), "success"
            )
            return redirect(url_for("staff_admin.settings", commune=scope.slug))
    return render_template("staff/admin/settings.html", place=scope, form=form, arms_form=arms_form)


@bp.post("/settings/coat-of-arms")
def coat_of_arms(commune: str) -> Response | str:
    scope = commune_scope(commune, Permission.MANAGE_COMMUNE)
    arms_form = CoatOfArmsForm(prefix="arms")
    if arms_form.validate_on_submit():
        try:
            if request.form.get("action") == "remove":
                services.remove_coat_of_arms(scope, origin=request_origin())
                message = _("Das Wappen wurde entfernt.")
            else:
                upload = arms_form.coat_of_arms.data
                if upload is None or not getattr(upload, "filename", ""):
                    raise AdminError(_("Bitte wählen Sie eine Bilddatei aus."), "coat_of_arms")
                services.set_coat_of_arms(scope, upload.read(), origin=request_origin())
                message = _("Das Wappen wurde gespeichert.")
        except AdminError as error:
            _apply(arms_form, error)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("staff_admin.settings", commune=scope.slug))
    form = ProfileForm(obj=scope, formdata=None)
    form.leitweg_ids.data = "\n".join(scope.leitweg_ids or [])
    return render_template("staff/admin/settings.html", place=scope, form=form, arms_form=arms_form), 400


# -- offices ------------------------------------------------------------------------------


def _office(commune: Commune, office_id: int) -> Office:
    office = db.session.get(Office, office_id)
    if office is None or office.commune_id != commune.id:
        abort(404)
    return office


@bp.get("/offices")
def offices(commune: str) -> str:
    scope = commune_scope(commune, Permission.MANAGE_OFFICES)
    return render_template(
        "staff/admin/offices.html",
        place=scope,
        offices=list(scope.offices),
        kind_label=office_kind_label,
    )


@bp.route("/offices/new", methods=["GET", "POST"])
@bp.route("/offices/<int:office_id>", methods=["GET", "POST"])
def office(commune: str, office_id: int | None = None) -> Response | str:
    scope = commune_scope(commune, Permission.MANAGE_OFFICES)
    existing = _office(scope, office_id) if office_id is not None else None
    form = OfficeForm(obj=existing)
    if form.validate_on_submit():
        values = {
            key: getattr(form, key).data or ("" if key != "active" else False)
            for key in services.OFFICE_FIELDS
        }
        try:
            if existing is None:
                services.create_office(scope, values, origin=request_origin())
                message = _("Das Fachamt %(name)s wurde angelegt.", name=values["name"])
            else:
                services.update_office(existing, values, origin=request_origin())
                message = _("Das Fachamt %(name)s wurde gespeichert.", name=values["name"])
        except AdminError as error:
            _apply(form, error)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("staff_admin.offices", commune=scope.slug))
    return render_template("staff/admin/office.html", place=scope, form=form, office=existing)


# -- staff accounts ---------------------------------------------------------------------------


def _managed_user(commune: Commune, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if (
        user is None
        or user.commune_id != commune.id
        or not permissions.may_manage_user(current_staff_user(), user)
    ):
        abort(404)
    return user


def _user_form_choices(form: UserForm, commune: Commune, current: Role | None = None) -> None:
    roles = [role for role in permissions.assignable_roles(current_staff_user()) if role.needs_commune]
    if current is not None and current not in roles:
        roles.insert(0, current)
    form.role.choices = role_choices(roles)
    form.offices.choices = [SelectChoice(o.id, o.name) for o in scope_offices(commune)]


def scope_offices(commune: Commune) -> list[Office]:
    """The commune's offices, active ones first."""
    return sorted(commune.offices, key=lambda o: (not o.active, o.name.casefold()))


def _chosen_offices(commune: Commune, ids: list[int]) -> list[Office]:
    return [o for o in commune.offices if o.id in set(ids or [])]


@bp.get("/users")
def users(commune: str) -> str:
    scope = commune_scope(commune, Permission.MANAGE_USERS)
    return render_template(
        "staff/admin/users.html",
        place=scope,
        users=services.all_users(scope),
    )


@bp.route("/users/invite", methods=["GET", "POST"])
def invite(commune: str) -> Response | str:
    scope = commune_scope(commune, Permission.MANAGE_USERS)
    form = InviteForm()
    _user_form_choices(form, scope)
    if request.method == "GET":
        form.role.data = Role.CLERK.value
    if form.validate_on_submit():
        try:
            user = services.invite_user(
                commune=scope,
                email=form.email.data or "",
                name=form.name.data or "",
                role=Role(form.role.data),
                offices=_chosen_offices(scope, form.offices.data or []),
                link_for=_invitation_link,
                origin=request_origin(),
            )
        except AdminError as error:
            _apply(form, error)
        else:
            db.session.commit()
            flash(_("Die Einladung an %(email)s wurde verschickt.", email=user.email), "success")
            return redirect(url_for("staff_admin.users", commune=scope.slug))
    return render_template("staff/admin/invite.html", place=scope, form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(commune: str, user_id: int) -> Response | str:
    scope = commune_scope(commune, Permission.MANAGE_USERS)
    account = _managed_user(scope, user_id)
    form = UserForm(obj=account)
    _user_form_choices(form, scope, account.role)
    if request.method == "GET":
        form.role.data = account.role.value
        form.offices.data = sorted(account.office_ids)
    if form.validate_on_submit():
        try:
            services.change_user(
                account,
                name=form.name.data or "",
                role=Role(form.role.data),
                offices=_chosen_offices(scope, form.offices.data or []),
                origin=request_origin(),
            )
        except AdminError as error:
            _apply(form, error)
        else:
            db.session.commit()
            flash(_("Das Konto von %(name)s wurde gespeichert.", name=account.name), "success")
            return redirect(url_for("staff_admin.users", commune=scope.slug))
    return render_template("staff/admin/user.html", place=scope, form=form, account=account)


@bp.post("/users/<int:user_id>/active")
def user_active(commune: str, user_id: int) -> Response:
    scope = commune_scope(commune, Permission.MANAGE_USERS)
    account = _managed_user(scope, user_id)
    form = SwitchForm()
    if not form.validate_on_submit():
        abort(400)
    active = form.active.data == "1"
    try:
        services.set_user_active(account, active, origin=request_origin())
    except AdminError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(
            _("Das Konto von %(name)s ist wieder aktiv.", name=account.name)
            if active
            else _(
                "Das Konto von %(name)s wurde deaktiviert; seine Sitzungen sind beendet.", name=account.name
            ),
            "success",
        )
    return redirect(url_for("staff_admin.users", commune=scope.slug))


@bp.post("/users/<int:user_id>/invitation")
def resend_invitation(commune: str, user_id: int) -> Response:
    scope = commune_scope(commune, Permission.MANAGE_USERS)
    account = _managed_user(scope, user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.send_invitation(account, link_for=_invitation_link, origin=request_origin())
    db.session.commit()
    flash(_("Eine neue Einladung an %(email)s wurde verschickt.", email=account.email), "success")
    return redirect(url_for("staff_admin.users", commune=scope.slug))


# -- services (the cafeteria choice) -------------------------------------------------------


def _service_spec(commune: Commune, slug: str) -> ServiceSpec:
    spec = services.catalogue_service(commune, slug)
    if spec is None:
        abort(404)
    return spec


@bp.get("/services")
def service_list(commune: str) -> str:
    scope = commune_scope(commune, Permission.MANAGE_SERVICES)
    return render_template(
        "staff/admin/services.html",
        place=scope,
        topics=services.catalogue_for(scope),
        kind_label=office_kind_label,
    )


#: The fields of ServiceForm filled from the commune's choice (the office is set below).
_SERVICE_FORM_FROM_CHOICE = (
    "enabled",
    "featured",
    "deliver_by_email",
    "email_to",
    "webhook_url",
    "retention_days",
    "fee_override",
)


def _service_form(
    commune: Commune, spec: ServiceSpec, choice: CommuneService | None, suggested: Office | None
) -> ServiceForm:
    # Not ``obj=choice``: the webhook secret is write-only, so the form never reads (decrypts) it.
    stored = {name: getattr(choice, name) for name in _SERVICE_FORM_FROM_CHOICE} if choice else None
    form = ServiceForm(data=stored)
    active = [o for o in commune.offices if o.active]
    form.office.choices = [SelectChoice(0, str(_l("– bitte wählen –")))] + [
        SelectChoice(o.id, f"{o.name} ({office_kind_label(o.kind)})" if o.kind else o.name) for o in active
    ]
    if request.method == "GET":
        form.office.data = (choice.office_id if choice is not None else None) or (
            suggested.id if suggested is not None else 0
        )
        if choice is None:
            form.enabled.data = True
            form.deliver_by_email.data = True
        form.webhook_url.data = (choice.webhook_url if choice is not None else None) or ""
    return form


def _checked_webhook_url(url: str) -> str:
    """``url`` if the portal may deliver to it (see :func:`check_target_url`); raises WebhookUrlError."""
    return check_target_url(
        url,
        portal_hosts=[request.host, current_app.config.get("PUBLIC_BASE_URL", "")],
        production=current_app.config.get("PORTAL_ENV") == "production",
    )


@bp.route("/services/<service>", methods=["GET", "POST"])
def service(commune: str, service: str) -> Response | str:
    scope = commune_scope(commune, Permission.MANAGE_SERVICES)
    spec = _service_spec(scope, service)
    choice = services.commune_choices(scope).get(spec.slug)
    suggested = services.suggested_office(spec, scope.offices)
    form = _service_form(scope, spec, choice, suggested)
    if form.validate_on_submit():
        try:
            url = form.webhook_url.data or ""
            if url:
                try:
                    url = _checked_webhook_url(url)
                except WebhookUrlError as exc:
                    raise AdminError(str(exc), "webhook_url") from exc
            office_id = form.office.data or 0
            settings_ = services.ServiceSettings(
                enabled=bool(form.enabled.data),
                office=next((o for o in scope.offices if o.id == office_id), None),
                featured=bool(form.featured.data),
                deliver_by_email=bool(form.deliver_by_email.data),
                email_to=form.email_to.data or "",
                webhook_url=url,
                webhook_secret=form.webhook_secret.data or None,
                retention_days=form.retention_days.data,
                fee_override=form.fee_override.data,
            )
            services.configure_service(scope, spec, settings_, origin=request_origin())
        except AdminError as error:
            _apply(form, error)
        else:
            db.session.commit()
            flash(_("Die Einstellungen für „%(title)s“ wurden gespeichert.", title=_(spec.title)), "success")
            return redirect(url_for("staff_admin.service", commune=scope.slug, service=spec.slug))
    return _render_service(scope, spec, choice, suggested, form)


def _render_service(
    commune: Commune,
    spec: ServiceSpec,
    choice: CommuneService | None,
    suggested: Office | None,
    form: ServiceForm,
    probe: ProbeResult | None = None,
) -> str:
    return render_template(
        "staff/admin/service.html",
        place=commune,
        spec=spec,
        choice=choice,
        suggested=suggested,
        form=form,
        probe=probe,
        probe_form=ActionForm(prefix="probe"),
        information_only=not spec.online or spec.form is None,
        kind_label=office_kind_label,
    )


@bp.post("/services/<service>/test-delivery")
def test_delivery(commune: str, service: str) -> Response | str:
    scope = commune_scope(commune, Permission.MANAGE_SERVICES)
    spec = _service_spec(scope, service)
    choice = services.commune_choices(scope).get(spec.slug)
    if not ActionForm(prefix="probe").validate_on_submit():
        abort(400)
    if choice is None or not choice.webhook_url or not choice.webhook_secret:
        flash(_("Bitte speichern Sie zuerst eine Webhook-Adresse und einen Schlüssel."), "error")
        return redirect(url_for("staff_admin.service", commune=scope.slug, service=spec.slug))
    try:
        url = _checked_webhook_url(choice.webhook_url)
    except WebhookUrlError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff_admin.service", commune=scope.slug, service=spec.slug))
    probe = send_probe(
        url,
        choice.webhook_secret,
        probe_payload(scope.slug, scope.name, spec.slug, spec.title),
        timeout=float(current_app.config.get("DELIVERY_TIMEOUT_SECONDS", 10)),
    )
    suggested = services.suggested_office(spec, scope.offices)
    form = _service_form(scope, spec, choice, suggested)
    return _render_service(scope, spec, choice, suggested, form, probe=probe)


@bp.get("/services/<service>/preview")
def service_preview(commune: str, service: str) -> str:
    scope = commune_scope(commune, Permission.MANAGE_SERVICES)
    spec = _service_spec(scope, service)
    steps = []
    if spec.form is not None:
        for step in spec.form.steps:
            form = bind_step_form(step_form_class(spec, step.name, _l), None, {})
            steps.append((step, form, form.layout()))
    return render_template("staff/admin/preview.html", place=scope, spec=spec, steps=steps)


# -- the association ------------------------------------------------------------------------


@association_bp.get("/communes")
def communes() -> str:
    association_scope()
    all_communes = list(db.session.scalars(select(Commune).order_by(Commune.name)))
    return render_template("staff/admin/communes.html", communes=all_communes)


@association_bp.route("/communes/new", methods=["GET", "POST"])
def new_commune() -> Response | str:
    association_scope()
    form = NewCommuneForm()
    if form.validate_on_submit():
        values = {key: getattr(form, key).data or "" for key in services.COMMUNE_FIELDS}
        try:
            created = services.create_commune(
                values,
                slug=form.slug.data or "",
                admin_email=form.admin_email.data or "",
                admin_name=form.admin_name.data or "",
                link_for=_invitation_link,
                origin=request_origin(),
            )
        except AdminError as error:
            _apply(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "Die Kommune %(name)s wurde angelegt; die Einladung an %(email)s ist verschickt.",
                    name=created.name,
                    email=form.admin_email.data,
                ),
                "success",
            )
            return redirect(url_for("staff_association.communes"))
    return render_template("staff/admin/commune.html", form=form, edited=None)


def _commune(slug: str) -> Commune:
    found = find_commune(slug)
    if found is None:
        abort(404)
    return found


@association_bp.route("/communes/<slug>", methods=["GET", "POST"])
def edit_commune(slug: str) -> Response | str:
    association_scope()
    edited = _commune(slug)
    form = CommuneForm(obj=edited)
    if form.validate_on_submit():
        values = {key: getattr(form, key).data or "" for key in services.COMMUNE_FIELDS}
        try:
            services.update_commune(edited, values, origin=request_origin())
        except AdminError as error:
            _apply(form, error)
        else:
            db.session.commit()
            flash(_("Die Kommune %(name)s wurde gespeichert.", name=edited.name), "success")
            return redirect(url_for("staff_association.communes"))
    return render_template("staff/admin/commune.html", form=form, edited=edited)


@association_bp.post("/communes/<slug>/active")
def commune_active(slug: str) -> Response:
    association_scope()
    edited = _commune(slug)
    form = SwitchForm()
    if not form.validate_on_submit():
        abort(400)
    active = form.active.data == "1"
    services.set_commune_active(edited, active, origin=request_origin())
    db.session.commit()
    flash(
        _("Die Kommune %(name)s ist wieder aktiv.", name=edited.name)
        if active
        else _(
            "Die Kommune %(name)s ist deaktiviert: ihre öffentlichen Seiten melden „nicht mehr verfügbar“, "
            "ihre Beschäftigten können nicht mehr arbeiten. Alle Daten bleiben erhalten.",
            name=edited.name,
        ),
        "success",
    )
    return redirect(url_for("staff_association.communes"))


@association_bp.get("/services")
def matrix() -> str:
    association_scope()
    return render_template("staff/admin/matrix.html", matrix=services.service_matrix())


@association_bp.get("/users")
def all_users() -> str:
    association_scope()
    all_communes = list(db.session.scalars(select(Commune).order_by(Commune.name)))
    form = UserFilterForm(request.args)
    form.commune.choices = [SelectChoice("", _("Alle Kommunen"))] + [
        SelectChoice(c.slug, c.name) for c in all_communes
    ]
    form.role.choices = [SelectChoice("", _("Alle Rollen")), *role_choices(list(Role))]
    form.validate()
    commune = next((c for c in all_communes if c.slug == form.commune.data), None)
    role = Role(form.role.data) if form.role.data in {r.value for r in Role} else None
    return render_template("staff/admin/all_users.html", form=form, users=services.all_users(commune, role))


# -- invitations ------------------------------------------------------------------------------


@invitation_bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept(token: str) -> Response | tuple[str, int] | str:
    invitation = services.find_invitation(token)
    if invitation is None:
        return render_template("staff/admin/invitation_invalid.html"), 410
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            services.accept_invitation(invitation, form.new_password.data or "", origin=request_origin())
        except (AdminError, PasswordPolicyError) as error:
            db.session.rollback()
            form.new_password.errors = [*form.new_password.errors, str(error)]
        else:
            db.session.commit()
            flash(_("Ihr Passwort ist festgelegt. Bitte melden Sie sich jetzt an."), "success")
            return redirect(url_for("staff.login"))
    return render_template("staff/admin/invitation.html", form=form, account=invitation.user)
