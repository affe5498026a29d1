"""The staff shell: login and logout, the dashboard, the own account, the audit log."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_user

from app.extensions import db, limiter
from app.staff import permissions, services, twofactor
from app.staff.admin.views import bps as admin_bps
from app.staff.audit import AuditFilter, audit_page
from app.staff.auth import (
    LAST_SEEN_KEY,
    association_scope,
    commune_scope,
    current_staff_user,
    end_session,
    request_origin,
    safe_next,
    staff_required,
    throttle_policy,
)
from app.staff.forms import (
    AuditFilterForm,
    CodeForm,
    ConfirmTwoFactorForm,
    LoginForm,
    PasswordChangeForm,
    PasswordConfirmForm,
)
from app.staff.inbox.views import bp as inbox_bp
from app.staff.models import AuditAction, User
from app.staff.navigation import commune_links
from app.staff.passwords import PasswordPolicyError
from app.staff.permissions import Permission
from app.staff.services import AccountError, LoginOutcome, LoginResult
from app.timeutil import BERLIN, utcnow

bp = Blueprint("staff", __name__, url_prefix="/staff")
bps = [bp, inbox_bp, *admin_bps]

#: Session key of a login that passed the password and waits for the second factor.
PENDING_KEY = "staff_pending_login"
PENDING_LIFETIME = 300  # seconds


def _login_rate_limit() -> str:
    return str(current_app.config["STAFF_LOGIN_RATE_LIMIT"])


def _after_login(user: User, target: str | None) -> Response:
    session.pop(PENDING_KEY, None)
    login_user(user)
    session[LAST_SEEN_KEY] = int(time.time())
    return redirect(safe_next(target) or url_for("staff.dashboard"))


def _lockout_message(result: LoginResult) -> str:
    minutes = result.lockout.minutes_left(utcnow()) if result.lockout else 15
    return _(
        "Zu viele fehlgeschlagene Anmeldeversuche. Die Anmeldung ist vorübergehend gesperrt. "
        "Bitte versuchen Sie es in %(minutes)d Minuten erneut.",
        minutes=minutes,
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def login() -> Response | tuple[str, int] | str:
    if current_staff_user() is not None:
        return redirect(safe_next(request.args.get("next")) or url_for("staff.dashboard"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    problem = None
    status = 200
    if form.validate_on_submit():
        result = services.authenticate(
            form.email.data or "",
            form.password.data or "",
            origin=request_origin(email=form.email.data or ""),
            now=utcnow(),
            policy=throttle_policy(),
        )
        db.session.commit()
        if result.outcome is LoginOutcome.LOGGED_IN and result.user is not None:
            return _after_login(result.user, form.next.data)
        if result.outcome is LoginOutcome.SECOND_FACTOR_NEEDED and result.user is not None:
            session[PENDING_KEY] = {
                "user": result.user.get_id(),
                "at": int(time.time()),
                "next": safe_next(form.next.data) or "",
            }
            return redirect(url_for("staff.login_code"))
        if result.outcome is LoginOutcome.LOCKED:
            problem = _lockout_message(result)
            status = 429
        else:
            problem = _("Die E-Mail-Adresse oder das Passwort ist nicht richtig.")
    if problem:
        form.email.errors = [*form.email.errors, problem]
    form.password.data = ""
    return render_template("staff/login.html", form=form), status


def _pending_user() -> tuple[User, str] | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if time.time() - float(pending.get("at", 0)) > PENDING_LIFETIME:
        session.pop(PENDING_KEY, None)
        return None
    user = services.load_session_user(str(pending.get("user", "")))
    if user is None or not user.two_factor_enabled:
        session.pop(PENDING_KEY, None)
        return None
    return user, str(pending.get("next") or "")


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def login_code() -> Response | tuple[str, int] | str:
    pending = _pending_user()
    if pending is None:
        flash(_("Bitte melden Sie sich erneut mit E-Mail-Adresse und Passwort an."), "info")
        return redirect(url_for("staff.login"))
    user, target = pending
    form = CodeForm()
    if form.validate_on_submit():
        result = services.complete_second_factor(
            user,
            form.code.data or "",
            origin=request_origin(user),
            now=utcnow(),
            policy=throttle_policy(),
        )
        db.session.commit()
        if result.outcome is LoginOutcome.LOGGED_IN:
            if services.twofactor.unused_recovery_codes(user) <= 2:
                flash(
                    _(
                        "Sie haben nur noch wenige Wiederherstellungscodes. Bitte erzeugen Sie neue "
                        "unter „Mein Konto“."
                    ),
                    "info",
                )
            return _after_login(user, target)
        if result.outcome is LoginOutcome.LOCKED:
            session.pop(PENDING_KEY, None)
            flash(_lockout_message(result), "error")
            return redirect(url_for("staff.login"))
        form.code.errors = [*form.code.errors, _("Der Code ist nicht richtig oder wurde schon benutzt.")]
    form.code.data = ""
    return render_template("staff/login_code.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    user = current_staff_user()
    if user is not None:
        services.record_logout(user, origin=request_origin(user))
        db.session.commit()
    end_session()
    flash(_("Sie wurden abgemeldet."), "success")
    return redirect(url_for("staff.login"))


@bp.get("/")
@staff_required
def dashboard() -> str:
    user = current_staff_user()
    # Association admins see every commune; listing every office of each would cost
    # a query per commune and say little.
    list_offices = not permissions.is_association_admin(user)
    workplaces = [
        {
            "commune": commune,
            "offices": permissions.visible_offices(user, commune) if list_offices else [],
            "links": commune_links(user, commune),
        }
        for commune in permissions.visible_communes(user)
    ]
    return render_template("staff/dashboard.html", workplaces=workplaces)


@bp.get("/account")
@staff_required
def account() -> str:
    user = current_staff_user()
    assert user is not None
    return render_template(
        "staff/account.html",
        user=user,
        recovery_codes_left=twofactor.unused_recovery_codes(user),
    )


@bp.route("/account/password", methods=["GET", "POST"])
@staff_required
def change_password() -> Response | str:
    user = current_staff_user()
    assert user is not None
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_own_password(
                user,
                form.current_password.data or "",
                form.new_password.data or "",
                origin=request_origin(user),
            )
        except PasswordPolicyError as exc:
            db.session.rollback()
            target = form.current_password if "bisherige" in str(exc) else form.new_password
            target.errors = [*target.errors, str(exc)]
        else:
            db.session.commit()
            # The generation changed: keep this session, every other one is logged out.
            login_user(user)
            flash(_("Ihr Passwort wurde geändert. Alle anderen Sitzungen wurden abgemeldet."), "success")
            return redirect(url_for("staff.account"))
    return render_template("staff/change_password.html", form=form)


@bp.get("/account/two-factor")
@staff_required
def two_factor() -> str:
    user = current_staff_user()
    assert user is not None
    if user.two_factor_enabled:
        return render_template(
            "staff/two_factor_enabled.html",
            user=user,
            disable_form=PasswordConfirmForm(prefix="disable"),
            codes_form=PasswordConfirmForm(prefix="codes"),
            recovery_codes_left=twofactor.unused_recovery_codes(user),
        )
    secret = services.start_two_factor_setup(user)
    db.session.commit()
    return _render_setup(user, secret, ConfirmTwoFactorForm())


def _render_setup(user: User, secret: str, form: ConfirmTwoFactorForm) -> str:
    return render_template(
        "staff/two_factor_setup.html",
        form=form,
        secret_groups=[secret[i : i + 4] for i in range(0, len(secret), 4)],
        uri=twofactor.provisioning_uri(user, secret),
    )


@bp.get("/account/two-factor/qr.svg")
@staff_required
def two_factor_qr() -> Response:
    user = current_staff_user()
    assert user is not None
    if user.two_factor_enabled or not user.totp_secret_stored:
        return Response(status=404)
    svg = twofactor.qr_code_svg(twofactor.provisioning_uri(user, user.totp_secret))
    response = make_response(svg)
    response.mimetype = "image/svg+xml"
    return response


@bp.post("/account/two-factor")
@staff_required
def two_factor_confirm() -> Response | str:
    user = current_staff_user()
    assert user is not None
    if user.two_factor_enabled:
        return redirect(url_for("staff.two_factor"))
    form = ConfirmTwoFactorForm()
    if form.validate_on_submit():
        try:
            codes = services.confirm_two_factor(user, form.code.data or "", origin=request_origin(user))
        except AccountError as exc:
            db.session.rollback()
            form.code.errors = [*form.code.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("Die Zwei-Faktor-Anmeldung ist eingerichtet."), "success")
            return render_template("staff/recovery_codes.html", codes=codes)
    secret = services.start_two_factor_setup(user)
    db.session.commit()
    form.code.data = ""
    return _render_setup(user, secret, form)


@bp.post("/account/two-factor/disable")
@staff_required
def two_factor_disable() -> Response | str:
    user = current_staff_user()
    assert user is not None
    form = PasswordConfirmForm(prefix="disable")
    if form.validate_on_submit():
        try:
            services.disable_two_factor(user, form.password.data or "", origin=request_origin(user))
        except AccountError as exc:
            db.session.rollback()
            form.password.errors = [*form.password.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("Die Zwei-Faktor-Anmeldung ist abgeschaltet."), "success")
            return redirect(url_for("staff.account"))
    return render_template(
        "staff/two_factor_enabled.html",
        user=user,
        disable_form=form,
        codes_form=PasswordConfirmForm(prefix="codes", formdata=None),
        recovery_codes_left=twofactor.unused_recovery_codes(user),
    )


@bp.post("/account/two-factor/recovery-codes")
@staff_required
def recovery_codes() -> Response | str:
    user = current_staff_user()
    assert user is not None
    form = PasswordConfirmForm(prefix="codes")
    if form.validate_on_submit():
        try:
            codes = services.regenerate_recovery_codes(
                user, form.password.data or "", origin=request_origin(user)
            )
        except AccountError as exc:
            db.session.rollback()
            form.password.errors = [*form.password.errors, str(exc)]
        else:
            db.session.commit()
            return render_template("staff/recovery_codes.html", codes=codes)
    if not user.two_factor_enabled:
        return redirect(url_for("staff.two_factor"))
    return render_template(
        "staff/two_factor_enabled.html",
        user=user,
        disable_form=PasswordConfirmForm(prefix="disable", formdata=None),
        codes_form=form,
        recovery_codes_left=twofactor.unused_recovery_codes(user),
    )


def _day_start(day: date | None) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, clock_time.min, tzinfo=BERLIN)


def _cursor(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def _audit_response(commune_id: int | None, title: str, endpoint_args: dict[str, str]) -> str:
    form = AuditFilterForm(request.args)
    criteria = AuditFilter(commune_id=commune_id)
    if request.args and form.validate():
        since = _day_start(form.since.data)
        until = _day_start(form.until.data)
        criteria = AuditFilter(
            commune_id=commune_id,
            action=AuditAction(form.action.data) if form.action.data else None,
            actor_email=(form.actor.data or "").strip(),
            since=since,
            until=until + timedelta(days=1) if until is not None else None,
        )
    page = audit_page(criteria, before=_cursor("before"), after=_cursor("after"))
    filters = {
        key: value
        for key, value in request.args.items()
        if key in {"action", "actor", "since", "until"} and value
    }

    def page_url(**cursor: int) -> str:
        return url_for(request.endpoint or "staff.dashboard", **endpoint_args, **filters, **cursor)

    return render_template(
        "staff/audit.html",
        title=title,
        form=form,
        page=page,
        newer_url=page_url(after=page.newer_cursor) if page.newer_cursor else None,
        older_url=page_url(before=page.older_cursor) if page.older_cursor else None,
        first_url=url_for(request.endpoint or "staff.dashboard", **endpoint_args, **filters),
        action_url=url_for(request.endpoint or "staff.dashboard", **endpoint_args),
    )


@bp.get("/association/audit")
@staff_required
def association_audit() -> str:
    association_scope()
    return _audit_response(None, _("Protokoll aller Kommunen"), {})


@bp.get("/<commune>/audit")
@staff_required
def commune_audit(commune: str) -> str:
    scope = commune_scope(commune, Permission.VIEW_AUDIT)
    return _audit_response(scope.id, _("Protokoll von %(name)s", name=scope.name), {"commune": scope.slug})
