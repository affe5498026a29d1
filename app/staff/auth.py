"""Sessions and access for every staff view.

Every URL under ``/staff/`` needs a logged-in staff user (except the login pages),
whether or not its view is decorated: :func:`guard_staff_area` runs before each
request. It also ends idle sessions and sends users whose commune requires
two-factor authentication to its set-up first.

Views use:

- :func:`staff_required` — explicit login requirement (also for routes outside ``/staff/``);
- :func:`commune_scope` — the commune of a ``<commune>`` URL segment, or 404 when the
  user may not see it (403 when they see it but lack the permission);
- :func:`office_scope` — an office of that commune the user works with, or 404;
- :func:`association_scope` — 404 for everyone but association admins;
- :func:`audit` — record an audit entry for the current user and client.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.extensions import db, login_manager
from app.staff import permissions, services
from app.staff.audit import Origin, record
from app.staff.models import AuditAction, AuditEntry, User
from app.staff.navigation import association_links, commune_links
from app.staff.permissions import Permission
from app.staff.throttle import ThrottlePolicy
from app.tenancy.models import Commune, Office

P = ParamSpec("P")
R = TypeVar("R")

#: Session key: when (epoch seconds) the session last served a staff request.
LAST_SEEN_KEY = "staff_last_seen"

#: Endpoints under /staff/ open to anonymous visitors.
PUBLIC_ENDPOINTS = frozenset({"staff.login", "staff.login_code"})
#: Endpoints a user must still reach while their commune makes them set up 2FA.
TWO_FACTOR_SETUP_ENDPOINTS = frozenset(
    {
        "staff.account",
        "staff.two_factor",
        "staff.two_factor_qr",
        "staff.two_factor_confirm",
        "staff.change_password",
        "staff.logout",
    }
)

DEFAULTS: dict[str, Any] = {
    "STAFF_LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
    "STAFF_LOGIN_WINDOW_MINUTES": 15,
    "STAFF_LOGIN_LOCKOUT_MINUTES": 15,
    "STAFF_LOGIN_RATE_LIMIT": "30 per minute",
    "SESSION_PROTECTION": "strong",
}


def current_staff_user() -> User | None:
    """The logged-in staff user, or ``None``."""
    user = current_user._get_current_object()
    return user if isinstance(user, User) else None


def client_address() -> str:
    """The client's address as the proxy chain reports it (see PROXY_FIX)."""
    return (request.remote_addr or "")[:45]


def request_origin(user: User | None = None, email: str = "") -> Origin:
    """The :class:`Origin` of the current request: the user, client address and browser."""
    return Origin(
        user=user if user is not None else current_staff_user(),
        email=email,
        client_address=client_address(),
        user_agent=request.user_agent.string,
    )


def audit(
    action: AuditAction,
    *,
    commune: Commune | None = None,
    object_type: str = "",
    object_id: str | int = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record an audit entry for the current user and request, in the current transaction.

    The caller commits together with the action it records::

        audit(AuditAction.SUBMISSION_VIEWED, commune=commune,
              object_type="submission", object_id=submission.reference)
        db.session.commit()
    """
    return record(
        action,
        origin=request_origin(),
        commune_id=commune.id if commune is not None else None,
        object_type=object_type,
        object_id=object_id,
        details=details,
    )


def throttle_policy() -> ThrottlePolicy:
    """The login throttling settings of the running application."""
    config = current_app.config
    return ThrottlePolicy(
        max_failures_per_account=int(config["STAFF_LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
        max_failures_per_address=int(config["STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS"]),
        window=timedelta(minutes=int(config["STAFF_LOGIN_WINDOW_MINUTES"])),
        lockout=timedelta(minutes=int(config["STAFF_LOGIN_LOCKOUT_MINUTES"])),
    )


def safe_next(target: str | None) -> str | None:
    """``target`` as a path on this portal's staff area, or ``None`` when it is not one.

    Refuses other hosts, scheme-relative (``//evil``) and backslash tricks, and
    anything outside ``/staff/``, so a crafted login link cannot send a clerk away.
    """
    if not target or len(target) > 2000:
        return None
    if any(ch == "\\" or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    foreign = parts.scheme not in ("http", "https") or parts.netloc != request.host
    if (parts.scheme or parts.netloc) and foreign:
        return None
    path = parts.path
    if not path.startswith("/staff/") or path.startswith("//"):
        return None
    if path.rstrip("/") in {url_for("staff.login").rstrip("/"), url_for("staff.logout").rstrip("/")}:
        return None
    return urlunsplit(("", "", path, parts.query, ""))


def _here() -> str | None:
    """Where the user was going, for the login page's ``next``."""
    if request.method == "GET":
        path = request.full_path.rstrip("?")
        return safe_next(path)
    return safe_next(request.referrer)


def _to_login(message: str, category: str = "info") -> Response:
    flash(message, category)
    target = _here()
    return redirect(url_for("staff.login", next=target) if target else url_for("staff.login"))


def _idle_expired() -> bool:
    last_seen = session.get(LAST_SEEN_KEY)
    limit = int(current_app.config["SESSION_IDLE_MINUTES"]) * 60
    return isinstance(last_seen, int | float) and time.time() - last_seen > limit


def end_session() -> None:
    """Log the user out and forget everything the session held for them."""
    logout_user()
    session.pop(LAST_SEEN_KEY, None)


def check_access(endpoint: str | None) -> Response | None:
    """The redirect a request to ``endpoint`` needs (login, idle timeout, 2FA set-up), if any."""
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    user = current_staff_user()
    if user is None:
        return _to_login(_("Bitte melden Sie sich an."))
    if _idle_expired():
        services.record_logout(user, origin=request_origin(user), expired=True)
        db.session.commit()
        end_session()
        return _to_login(
            _(
                "Sie waren länger als %(minutes)d Minuten nicht aktiv und wurden zu Ihrer Sicherheit "
                "abgemeldet. Bitte melden Sie sich erneut an.",
                minutes=int(current_app.config["SESSION_IDLE_MINUTES"]),
            )
        )
    session[LAST_SEEN_KEY] = int(time.time())
    if (
        user.two_factor_required
        and not user.two_factor_enabled
        and endpoint not in TWO_FACTOR_SETUP_ENDPOINTS
    ):
        flash(
            _(
                "Ihre Kommune schreibt die Zwei-Faktor-Anmeldung vor. Bitte richten Sie sie ein, "
                "bevor Sie weiterarbeiten."
            ),
            "info",
        )
        return redirect(url_for("staff.two_factor"))
    return None


def guard_staff_area() -> Response | None:
    """``before_request``: protects every URL under ``/staff/``."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    if not (request.path == "/staff" or request.path.startswith("/staff/")):
        return None
    return check_access(request.endpoint)


def staff_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Decorator: the view needs a logged-in staff user (with 2FA where required)."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        refusal = check_access(request.endpoint)
        if refusal is not None:
            return refusal
        return view(*args, **kwargs)

    return wrapper


def _user_or_404() -> User:
    user = current_staff_user()
    if user is None:
        abort(404)
    return user


def commune_scope(slug: str, permission: Permission | None = None) -> Commune:
    """The commune of a ``<commune>`` URL segment, for the current user.

    Aborts with 404 when there is no such commune or the user may not see it — the
    same answer, so a foreign commune's existence is not revealed — and with 403 when
    the user sees the commune but lacks ``permission`` there. Sets ``g.staff_commune``
    for the navigation.
    """
    user = _user_or_404()
    commune = db.session.scalar(select(Commune).where(Commune.slug == slug))
    if commune is None or not permissions.may_see_commune(user, commune):
        abort(404)
    if permission is not None and not permissions.may(user, permission, commune):
        abort(403)
    g.staff_commune = commune
    return commune


def office_scope(commune: Commune, office: str | int) -> Office:
    """An office of ``commune`` (by slug or id) whose submissions the user works with; else 404."""
    user = _user_or_404()
    stmt = select(Office).where(Office.commune_id == commune.id)
    if isinstance(office, int) or (isinstance(office, str) and office.isdigit()):
        stmt = stmt.where(Office.id == int(office))
    else:
        stmt = stmt.where(Office.slug == office)
    found = db.session.scalar(stmt)
    if found is None or not permissions.may_see_office(user, found):
        abort(404)
    return found


def association_scope() -> User:
    """The current user if they are an association admin; 404 for everyone else."""
    user = _user_or_404()
    if not permissions.is_association_admin(user):
        abort(404)
    return user


def _load_user(session_id: str) -> User | None:
    return services.load_session_user(session_id)


def _unauthorized() -> Response:
    return _to_login(_("Bitte melden Sie sich an."))


def _template_context() -> dict[str, Any]:
    if not request.path.startswith("/staff"):
        return {}
    user = current_staff_user()
    commune = g.get("staff_commune")
    return {
        "staff_user": user,
        "staff_commune": commune,
        "staff_links": commune_links(user, commune) if commune is not None and user is not None else [],
        "staff_association_links": association_links(user),
    }


def init_app(app: Flask) -> None:
    """Configure Flask-Login and install the staff area's guard."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    login_manager.session_protection = app.config["SESSION_PROTECTION"]
    login_manager.login_view = "staff.login"
    login_manager.login_message = _l("Bitte melden Sie sich an.")
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(guard_staff_area)
    app.context_processor(_template_context)
