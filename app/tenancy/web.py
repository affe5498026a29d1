"""Resolving ``<commune>`` from the URL for every public blueprint.

Public blueprints are created with :func:`commune_blueprint`; their views do not
take a ``commune`` argument but read :data:`flask.g.commune`. ``url_for`` fills the
``commune`` value in from the current request, so templates only pass it when
linking to another commune.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, render_template

from app.tenancy.models import Commune
from app.tenancy.services import find_commune


class CommuneGone(Exception):
    """The commune left the portal or was deactivated; its pages answer 410."""

    def __init__(self, commune: Commune) -> None:
        super().__init__(commune.slug)
        self.commune = commune


def _pull_commune(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values is None or "commune" not in values:
        return
    slug = values.pop("commune")
    commune = find_commune(slug)
    if commune is None:
        abort(404)
    if not commune.active:
        raise CommuneGone(commune)
    g.commune = commune


def _add_commune(endpoint: str, values: dict[str, Any]) -> None:
    if "commune" in values:
        return
    commune = g.get("commune")
    if commune is not None:
        values["commune"] = commune.slug


def commune_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint whose routes live under ``/<commune>``."""
    bp = Blueprint(name, import_name, url_prefix=f"/<commune>{url_prefix}")
    bp.url_value_preprocessor(_pull_commune)
    bp.url_defaults(_add_commune)
    return bp


def current_commune() -> Commune:
    """The commune of the current request (inside a commune blueprint)."""
    return g.commune


def render_commune_gone(error: CommuneGone) -> tuple[str, int]:
    return render_template("errors/410.html", gone=error.commune), 410
