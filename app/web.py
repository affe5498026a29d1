"""What every page shares: template globals, filters and the error pages."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, render_template, request
from flask_babel import format_date, format_datetime, format_decimal, lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.i18n import LANGUAGES
from app.markup import render_markdown
from app.tenancy.web import CommuneGone, render_commune_gone

log = logging.getLogger(__name__)

ERROR_TITLES = {
    400: lazy_gettext("Die Anfrage war fehlerhaft"),
    403: lazy_gettext("Kein Zugriff"),
    404: lazy_gettext("Seite nicht gefunden"),
    405: lazy_gettext("Diese Aktion ist hier nicht möglich"),
    410: lazy_gettext("Nicht mehr verfügbar"),
    413: lazy_gettext("Die gesendeten Daten sind zu groß"),
    429: lazy_gettext("Zu viele Anfragen"),
    500: lazy_gettext("Ein Fehler ist aufgetreten"),
}
ERROR_TEXTS = {
    400: lazy_gettext("Bitte gehen Sie zurück und versuchen Sie es erneut."),
    403: lazy_gettext("Sie haben keine Berechtigung, diese Seite aufzurufen."),
    404: lazy_gettext(
        "Die Adresse ist vielleicht falsch geschrieben, oder die Seite wurde verschoben "
        "oder gelöscht."
    ),
    405: lazy_gettext("Bitte nutzen Sie die Links und Schaltflächen auf den Seiten."),
    410: lazy_gettext("Dieses Angebot ist nicht mehr verfügbar."),
    413: lazy_gettext(
        "Bitte verkleinern Sie die Dateien oder senden Sie weniger auf einmal und "
        "versuchen Sie es erneut."
    ),
    429: lazy_gettext("Bitte warten Sie einen Moment und versuchen Sie es dann erneut."),
    500: lazy_gettext(
        "Wir wurden benachrichtigt und kümmern uns darum. Bitte versuchen Sie es später erneut."
    ),
}


def _error_page(code: int, detail: str | None = None) -> tuple[str, int]:
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=ERROR_TITLES.get(code, ERROR_TITLES[500]),
            text=detail or ERROR_TEXTS.get(code, ERROR_TEXTS[500]),
        ),
        code,
    )


def _handle_http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
    if error.code is None or error.code < 400:
        return error
    if request.path.startswith("/api/"):
        return error
    return _error_page(error.code)


def _handle_csrf_error(error: CSRFError) -> tuple[str, int]:
    return _error_page(
        400,
        str(
            lazy_gettext(
                "Das Formular ist abgelaufen oder wurde nicht vollständig gesendet. Bitte laden "
                "Sie die Seite neu und senden Sie es erneut."
            )
        ),
    )


def _handle_unexpected(error: Exception) -> tuple[str, int]:
    log.exception("unhandled error on %s %s", request.method, request.path)
    try:
        return _error_page(500)
    except Exception:
        log.exception("the error page itself failed")
        return "Internal Server Error", 500


def _template_context() -> dict[str, object]:
    return {
        "commune": g.get("commune"),
        "languages": LANGUAGES,
    }


def _format_filesize(num: int) -> str:
    if num < 1024:
        return f"{format_decimal(num)} B"
    if num < 1024 * 1024:
        return f"{format_decimal(round(num / 1024, 1))} KB"
    return f"{format_decimal(round(num / (1024 * 1024), 1))} MB"


def init_app(app: Flask) -> None:
    app.context_processor(_template_context)
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["filesize"] = _format_filesize
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(CommuneGone, render_commune_gone)
    app.register_error_handler(Exception, _handle_unexpected)

    @app.after_request
    def _no_store_for_forms(response: Response) -> Response:
        if request.path.startswith("/staff/") or "/apply/" in request.path:
            response.headers.setdefault("Cache-Control", "no-store")
        return response
