"""Portal-wide routes: ``/``, ``/search``, the association's accessibility statement and
page in Leichte Sprache, and ``/healthz``.

``/barrierefreiheit`` and ``/leichte-sprache`` are reserved commune slugs
(:data:`app.tenancy.models.RESERVED_SLUGS`), so no commune's ``/<commune>/`` shadows them.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template, request
from sqlalchemy import text

from app.content.search import search as run_search
from app.content.views import page_number
from app.extensions import db, limiter
from app.portal.accessibility import ENFORCEMENT_BODY, MONITORING_BODY_NAME, STATEMENT_DATE
from app.tenancy.services import active_communes, get_association

log = logging.getLogger(__name__)

bp = Blueprint("portal", __name__)

SEARCH_PER_PAGE = 10


@bp.get("/")
def home() -> str:
    return render_template(
        "portal/home.html", association=get_association(), communes=active_communes()
    )


@bp.get("/search")
def search() -> str:
    """Published content of every active commune, ranked, with highlighted snippets."""
    query = request.args.get("q", "")
    offset = (page_number() - 1) * SEARCH_PER_PAGE
    results = run_search(query, None, limit=SEARCH_PER_PAGE, offset=offset)
    return render_template("portal/search.html", results=results, query=query)


@bp.get("/barrierefreiheit")
def accessibility_statement() -> str:
    """The association's Erklärung zur Barrierefreiheit for the portal-wide pages."""
    return render_template(
        "portal/accessibility.html",
        association=get_association(),
        statement_date=STATEMENT_DATE,
        enforcement=ENFORCEMENT_BODY,
        monitoring_body=MONITORING_BODY_NAME,
    )


@bp.get("/leichte-sprache")
def easy_language() -> str:
    """The portal explained in Leichte Sprache."""
    return render_template("portal/easy_language.html", association=get_association())


@bp.get("/healthz")
@limiter.exempt
def healthz() -> tuple[object, int]:
    try:
        db.session.execute(text("SELECT 1"))
        database = {"status": "ok", "dialect": db.engine.dialect.name}
        code = 200
    except Exception as exc:
        log.warning("health check: database unreachable: %s", exc)
        db.session.rollback()
        database = {"status": "unreachable", "dialect": db.engine.dialect.name}
        code = 503
    status = "ok" if code == 200 else "degraded"
    return jsonify(status=status, database=database), code
