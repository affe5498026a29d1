"""Languages of the portal, how a request's language is chosen, and locale formatting.

German is the source language. The choice comes from ``?lang=`` (then kept in a
cookie), else the browser's Accept-Language, else German. Pages name their other
language versions with hreflang alternates; amounts and numbers are written the way
the reader's language writes them (Babel's CLDR data).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from flask import Flask, Response, current_app, has_request_context, request
from flask_babel import format_currency, format_decimal, get_locale

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
DEFAULT_CURRENCY = "EUR"


@dataclass(frozen=True)
class Alternate:
    """One ``<link rel="alternate" hreflang=…>`` of the current page."""

    hreflang: str
    href: str


def select_locale() -> str:
    """Flask-Babel's locale selector.

    Outside a request (commands, the delivery worker) it is German; code that writes
    to a citizen there names the language with ``flask_babel.force_locale``.
    """
    if not has_request_context():
        return DEFAULT_LANGUAGE
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


def language_url(code: str | None) -> str:
    """The absolute URL of the current page in language ``code``.

    ``None`` gives the address without ``?lang=``, whose language the reader's
    cookie or browser decides (hreflang's ``x-default``). Other query arguments
    are kept, so a search or a page of a list stays the same in every language.
    """
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    if code is not None:
        args.append(("lang", code))
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")
    query = urlencode(args)
    return f"{base}{request.script_root}{request.path}" + (f"?{query}" if query else "")


def hreflang_alternates() -> list[Alternate]:
    """Every language version of the current page, plus ``x-default``."""
    alternates = [Alternate(lang.code, language_url(lang.code)) for lang in LANGUAGES]
    alternates.append(Alternate("x-default", language_url(None)))
    return alternates


def format_money(amount: Decimal | float | int, currency: str = DEFAULT_CURRENCY) -> str:
    """An amount of money as the reader's language writes it (``1.234,50 €``, ``€1,234.50``)."""
    return format_currency(amount, currency)


def format_number(value: Decimal | float | int) -> str:
    """A number with the reader's decimal and grouping marks."""
    return format_decimal(value)


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


def _declare_language(response: Response) -> Response:
    # A page's language depends on the cookie and Accept-Language: shared caches must
    # keep one copy per language, and the language is named for clients that ask.
    if response.mimetype == "text/html":
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        response.headers.setdefault("Content-Language", current_language())
    return response


def init_app(app: Flask) -> None:
    app.after_request(_remember_language)
    app.after_request(_declare_language)
    # Whitespace inside {% trans %} blocks is collapsed, at extraction (babel.cfg) and
    # at run time alike, so template layout never changes a message id.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.globals["hreflang_alternates"] = hreflang_alternates
