"""Languages of the portal and how a request's language is chosen.

German is the source language. The choice comes from ``?lang=`` (then kept in a
cookie), else the browser's Accept-Language, else German.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, current_app, request
from flask_babel import get_locale

LANG_COOKIE = "lang"


@dataclass(frozen=True)
class Language:
    code: str
    native_name: str


LANGUAGES: tuple[Language, ...] = (
    Language("de", "Deutsch"),
    Language("en", "English"),
    Language("pl", "Polski"),
    Language("dsb", "Dolnoserbšćina"),
)
LANGUAGE_CODES = tuple(lang.code for lang in LANGUAGES)
DEFAULT_LANGUAGE = "de"


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    asked = request.args.get("lang")
    if asked in LANGUAGE_CODES:
        return asked
    remembered = request.cookies.get(LANG_COOKIE)
    if remembered in LANGUAGE_CODES:
        return remembered
    return request.accept_languages.best_match(LANGUAGE_CODES, default=DEFAULT_LANGUAGE)


def current_language() -> str:
    locale = get_locale()
    return str(locale) if locale is not None else DEFAULT_LANGUAGE


def _remember_language(response: Response) -> Response:
    asked = request.args.get("lang")
    if asked in LANGUAGE_CODES and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(
            LANG_COOKIE,
            asked,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
            httponly=True,
        )
    return response


def init_app(app: Flask) -> None:
    app.after_request(_remember_language)
