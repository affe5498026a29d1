"""The API clients of a commune in the staff workspace: list, create (token shown once), revoke.

URLs under ``/staff/<commune>/api-clients``, for those who manage the commune (commune
and association admins); everybody else gets what :func:`app.staff.auth.commune_scope`
answers (404 for a foreign commune, 403 without the permission).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.api import services
from app.api.forms import ActionForm, ApiClientForm
from app.api.models import ApiClient
from app.api.services import ApiClientError
from app.catalogue.services import offered_services
from app.extensions import db
from app.staff.auth import commune_scope, request_origin
from app.staff.permissions import Permission
from app.tenancy.models import Commune, Office
from app.timeutil import BERLIN, utcnow

bp = Blueprint("staff_api", __name__, url_prefix="/staff/<commune>/api-clients")

PERMISSION = Permission.MANAGE_COMMUNE


def _expiry(day: date | None) -> datetime | None:
    """The end of ``day`` in Berlin (the token works through the whole day), in UTC."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=BERLIN)


def _choices(form: ApiClientForm, commune: Commune) -> tuple[dict[int, str], dict[str, str]]:
    offices = {
        office.id: office.name
        for office in db.session.scalars(
            select(Office).where(Office.commune_id == commune.id).order_by(Office.name)
        )
    }
    service_titles = {offered.slug: offered.title for offered in offered_services(commune)}
    form.offices.choices = list(offices.items())
    form.services.choices = sorted(service_titles.items(), key=lambda item: item[1])
    return offices, service_titles


@bp.get("")
def clients(commune: str) -> str:
    scope = commune_scope(commune, PERMISSION)
    offices = dict(
        db.session.execute(select(Office.id, Office.name).where(Office.commune_id == scope.id)).all()
    )
    services_by_slug = {offered.slug: offered.title for offered in offered_services(scope)}
    return render_template(
        "staff/api/clients.html",
        place=scope,
        clients=services.clients_of(scope),
        office_names=offices,
        service_titles=services_by_slug,
        now=utcnow(),
        action_form=ActionForm(),
    )


@bp.route("/new", methods=["GET", "POST"])
def new_client(commune: str) -> str:
    scope = commune_scope(commune, PERMISSION)
    form = ApiClientForm()
    _choices(form, scope)
    if form.validate_on_submit():
        try:
            client, token = services.create_client(
                scope,
                name=form.name.data or "",
                office_ids=form.offices.data or [],
                service_slugs=form.services.data or [],
                expires_at=_expiry(form.expires_on.data),
                origin=request_origin(),
            )
        except ApiClientError as error:
            getattr(form, error.field).errors = [str(error)]
        else:
            db.session.commit()
            # Shown on this response only: the token is not stored and never shown again.
            return render_template("staff/api/created.html", place=scope, client=client, token=token)
    return render_template("staff/api/new.html", place=scope, form=form)


@bp.post("/<int:client_id>/revoke")
def revoke(commune: str, client_id: int) -> Response:
    scope = commune_scope(commune, PERMISSION)
    client: ApiClient | None = services.get_client(scope, client_id)
    if client is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    if services.revoke_client(client, origin=request_origin()):
        db.session.commit()
        flash(
            _("Der API-Client %(name)s ist gesperrt; sein Token gilt nicht mehr.", name=client.name),
            "success",
        )
    else:
        flash(_("Der API-Client %(name)s war schon gesperrt.", name=client.name), "info")
    return redirect(url_for("staff_api.clients", commune=scope.slug))
