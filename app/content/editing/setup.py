"""Wires the editors' screens into the application: blueprint, staff section, limits, command."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.content.editing.required import ensure_required_pages
from app.content.editing.views import bp
from app.extensions import db
from app.staff.navigation import StaffSection, add_staff_section
from app.staff.permissions import Permission
from app.tenancy.models import Commune

DEFAULTS = {
    # Below MAX_CONTENT_LENGTH (50 MB), so a too large file gets the form's message, not the 413 page.
    "CONTENT_MAX_DOCUMENT_BYTES": 20 * 1024 * 1024,
    "CONTENT_MAX_IMAGE_BYTES": 15 * 1024 * 1024,
}

cli = AppGroup("content-pages", help="Pflichtseiten der Kommunen.")


@cli.command("ensure-required")
def ensure_required_command() -> None:
    """Give every commune the required pages it lacks (Impressum, Datenschutz, Barrierefreiheit,
    Leichte Sprache). Safe to run any number of times."""
    for commune in db.session.scalars(select(Commune).order_by(Commune.slug)):
        created = ensure_required_pages(commune)
        click.echo(f"{commune.slug}: {len(created)} Pflichtseiten angelegt")
    db.session.commit()


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(bp)
    app.cli.add_command(cli)
    add_staff_section(
        app, StaffSection("staff_content.overview", _l("Inhalte"), Permission.EDIT_CONTENT, order=20)
    )
