"""The commune's service catalogue: the list, each service's description, its data schema."""

from __future__ import annotations

import json

from flask import Response, abort, render_template, request

from app.catalogue.services import (
    OfferedService,
    get_offered_service,
    group_by_topic,
    offered_services,
    search_services,
)
from app.formspec import data_schema
from app.submissions.drafts import DRAFT_COOKIE, find_draft
from app.tenancy.web import commune_blueprint, current_commune

bp = commune_blueprint("catalogue", __name__, "/services")

#: Longest search query the catalogue page accepts; longer ones are cut.
MAX_QUERY_LENGTH = 200


def _service_or_404(slug: str) -> OfferedService:
    service = get_offered_service(current_commune(), slug, online_only=False)
    if service is None:
        abort(404)
    return service


@bp.get("/")
def index() -> str:
    query = request.args.get("q", "").strip()[:MAX_QUERY_LENGTH]
    services = offered_services(current_commune())
    found = search_services(services, query) if query else services
    return render_template(
        "catalogue/index.html",
        query=query,
        groups=group_by_topic(found),
        total=len(services),
        found=len(found),
    )


@bp.get("/<service>")
def detail(service: str) -> str:
    offered = _service_or_404(service)
    draft = find_draft(request.cookies.get(DRAFT_COOKIE), current_commune(), offered.slug)
    return render_template(
        "catalogue/detail.html",
        service=offered,
        spec=offered.priced_spec,
        has_draft=draft is not None and draft.submission_id is None,
    )


@bp.get("/<service>/schema.json")
def schema(service: str) -> Response:
    offered = _service_or_404(service)
    if offered.spec.form is None:
        abort(404)
    body = json.dumps(data_schema(offered.spec), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/schema+json")
