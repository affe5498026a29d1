"""Portal-wide routes: ``/``, ``/search`` and ``/healthz``."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from app.extensions import db, limiter
from app.tenancy.services import active_communes, get_association

log = logging.getLogger(__name__)

bp = Blueprint("portal", __name__)


@bp.get("/")
def home() -> str:
    return render_template(
        "portal/home.html", association=get_association(), communes=active_communes()
    )


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
