"""Wires the API into the application: no CSRF for token-authenticated calls, problem
documents for every error under ``/api/``, the rate limit's default, the staff section."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from app.api.problems import problem_for_api_errors
from app.api.views import bp
from app.extensions import csrf
from app.staff.navigation import StaffSection, add_staff_section
from app.staff.permissions import Permission

DEFAULTS = {
    #: Requests per token (or per address without one); Flask-Limiter syntax.
    "API_RATE_LIMIT": "600 per minute",
}


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    # The API authenticates every call with a bearer token and sets no cookies: no CSRF.
    csrf.exempt(bp)
    app.after_request(problem_for_api_errors)
    add_staff_section(
        app, StaffSection("staff_api.clients", _l("API-Clients"), Permission.MANAGE_COMMUNE, order=75)
    )
