"""``flask content-pages ensure-required`` gives existing communes their required pages."""

from __future__ import annotations

from factories import make_commune
from flask import Flask
from sqlalchemy import select

from app.content.editing.required import REQUIRED_SLUGS
from app.content.models import Page
from app.extensions import db


def test_the_command_creates_missing_required_pages_once(app: Flask) -> None:
    commune = make_commune()
    result = app.test_cli_runner().invoke(args=["content-pages", "ensure-required"])
    assert result.exit_code == 0, result.output
    assert f"{commune.slug}: 4 Pflichtseiten angelegt" in result.output
    slugs = set(db.session.scalars(select(Page.slug).where(Page.commune_id == commune.id)))
    assert slugs == REQUIRED_SLUGS
    again = app.test_cli_runner().invoke(args=["content-pages", "ensure-required"])
    assert f"{commune.slug}: 0 Pflichtseiten angelegt" in again.output
