"""Wiring of the content feature that is not a blueprint: search index upkeep, template helpers."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from app.content.editing import setup as editing_setup
from app.content.search import install_index_hooks
from app.content.views import navigation_pages
from app.timeformat import format_day_with_times, format_moment

_MEDIA_TYPE_LABELS = {
    "application/pdf": _l("PDF-Dokument"),
    "application/msword": _l("Word-Dokument"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _l("Word-Dokument"),
    "application/vnd.oasis.opendocument.text": _l("OpenDocument-Text"),
    "application/vnd.ms-excel": _l("Excel-Tabelle"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _l("Excel-Tabelle"),
    "application/vnd.oasis.opendocument.spreadsheet": _l("OpenDocument-Tabelle"),
    "application/zip": _l("ZIP-Archiv"),
    "text/plain": _l("Textdatei"),
    "text/csv": _l("CSV-Tabelle"),
}


def media_type_label(media_type: str) -> str:
    """A reader's name for a file type: ``application/pdf`` → ``PDF-Dokument``."""
    label = _MEDIA_TYPE_LABELS.get(media_type)
    if label is not None:
        return str(label)
    if media_type.startswith("image/"):
        return str(_l("Bild (%(format)s)", format=media_type.split("/", 1)[1].upper()))
    return str(_l("Datei (%(type)s)", type=media_type))


def init_app(app: Flask) -> None:
    install_index_hooks()
    # Every commune page (also other features' and the error pages) shows the page tree's top level.
    app.jinja_env.globals["commune_navigation"] = navigation_pages
    app.jinja_env.filters["media_type_label"] = media_type_label
    # Events show weekday, date and times in the reader's language (app/timeformat.py).
    app.jinja_env.filters["moment"] = format_moment
    app.jinja_env.globals["day_with_times"] = format_day_with_times
    editing_setup.init_app(app)
