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

from babel.support import NullTranslations
from flask import Flask, Response, current_app, has_request_context, request
from flask_babel import format_currency, format_decimal, get_locale, get_translations

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


@dataclass(frozen=True)
class LanguageLink:
    """One entry of the language switcher: the current page in language ``code``."""

    code: str
    name: str
    href: str
    current: bool


_VERSIONS_KEY = "kommunalportal.i18n.language_versions"


def _language_paths() -> dict[str | None, str]:
    """The current page's path and query in every language (``None``: without ``?lang=``).

    Built once per request (kept in the WSGI environ, which lives exactly as long as the
    request); the switcher and the hreflang alternates both read it.
    """
    paths = request.environ.get(_VERSIONS_KEY)
    if paths is None:
        args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
        path = request.script_root + request.path
        query = urlencode(args)
        paths = {None: f"{path}?{query}" if query else path}
        separator = "&" if query else ""
        for lang in LANGUAGES:
            paths[lang.code] = f"{path}?{query}{separator}{urlencode((('lang', lang.code),))}"
        request.environ[_VERSIONS_KEY] = paths
    return paths


def _base_url() -> str:
    return current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")


def language_url(code: str | None) -> str:
    """The absolute URL of the current page in language ``code``.

    ``None`` gives the address without ``?lang=``, whose language the reader's
    cookie or browser decides (hreflang's ``x-default``). Other query arguments
    are kept, so a search or a page of a list stays the same in every language.
    """
    return _base_url() + _language_paths()[code]


def language_links() -> list[LanguageLink]:
    """The language switcher: every language's version of the current page, the current one marked."""
    paths = _language_paths()
    current = current_language()
    return [
        LanguageLink(lang.code, lang.native_name, paths[lang.code], lang.code == current)
        for lang in LANGUAGES
    ]


def hreflang_alternates() -> list[Alternate]:
    """Every language version of the current page, plus ``x-default``."""
    base = _base_url()
    paths = _language_paths()
    alternates = [Alternate(lang.code, base + paths[lang.code]) for lang in LANGUAGES]
    alternates.append(Alternate("x-default", base + paths[None]))
    return alternates


_CATALOGUE_KEY = "kommunalportal.i18n.catalogue"


def _catalogue() -> NullTranslations:
    """The current locale's translations, asked of Flask-Babel once per request and locale.

    Flask-Babel finds them anew for every message, through the context, the domain and the
    locale (a dozen lookups through context proxies), and a page shows about fifty. The memo
    is keyed by the locale object, so ``force_locale`` inside a request still switches.
    """
    if not has_request_context():
        return get_translations()
    locale = get_locale()
    memo = request.environ.get(_CATALOGUE_KEY)
    if memo is None or memo[0] is not locale:
        memo = request.environ[_CATALOGUE_KEY] = (locale, get_translations())
    return memo[1]


def _template_gettext(message: str) -> str:
    return _catalogue().ugettext(message)


def _template_ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogue().ungettext(singular, plural, n)


def _template_pgettext(context: str, message: str) -> str:
    return _catalogue().upgettext(context, message)


def _template_npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return _catalogue().unpgettext(context, singular, plural, n)


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
    # Replaces Flask-Babel's callables (installed by babel.init_app before this) with the same
    # translations, found once per request instead of once per message.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_template_gettext,
        ngettext=_template_ngettext,
        newstyle=True,
        pgettext=_template_pgettext,
        npgettext=_template_npgettext,
    )
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.globals["hreflang_alternates"] = hreflang_alternates
    app.jinja_env.globals["language_links"] = language_links
    app.jinja_env.globals["current_language"] = current_language
