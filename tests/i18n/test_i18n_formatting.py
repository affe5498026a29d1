"""Dates, times, numbers and money are written the way the reader's language writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, render_template_string
from flask_babel import refresh

from app import create_app
from app.extensions import babel
from app.i18n import format_money, format_number

NBSP = "\xa0"
ROOT = Path(__file__).resolve().parents[2]


def _render(app: Flask, lang: str, source: str, **context: object) -> str:
    with app.test_request_context(f"/?lang={lang}"):
        refresh()
        return render_template_string(source, **context)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("de", f"1.234,50{NBSP}€"),
        ("en", "€1,234.50"),
        ("pl", f"1{NBSP}234,50{NBSP}€"),
        ("dsb", f"1.234,50{NBSP}€"),
    ],
)
def test_money_is_written_per_locale(app: Flask, lang: str, expected: str) -> None:
    assert _render(app, lang, "{{ amount | money }}", amount=Decimal("1234.50")) == expected


def test_money_helper_and_filter_agree(app: Flask) -> None:
    with app.test_request_context("/?lang=en"):
        refresh()
        assert format_money(25) == "€25.00"
        assert format_money(Decimal("0.5"), "PLN") == "PLN0.50"
        assert format_number(Decimal("1234.5")) == "1,234.5"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("de", "1.234.567,25"), ("en", "1,234,567.25"), ("pl", f"1{NBSP}234{NBSP}567,25")],
)
def test_numbers_are_written_per_locale(app: Flask, lang: str, expected: str) -> None:
    assert _render(app, lang, "{{ value | number }}", value=Decimal("1234567.25")) == expected


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("de", "25.11.2026"), ("en", "Nov 25, 2026"), ("pl", "25 lis 2026"), ("dsb", "25.11.2026")],
)
def test_dates_are_written_per_locale(app: Flask, lang: str, expected: str) -> None:
    assert _render(app, lang, "{{ day | date }}", day=date(2026, 11, 25)) == expected


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("de", "25. November 2026"), ("pl", "25 listopada 2026"), ("dsb", "25. nowembra 2026")],
)
def test_month_names_are_in_the_readers_language(app: Flask, lang: str, expected: str) -> None:
    assert _render(app, lang, "{{ day | date('long') }}", day=date(2026, 11, 25)) == expected


def test_times_are_shown_in_berlin_time(app: Flask) -> None:
    """Stored in UTC; 23:30 UTC on 25 November is half past midnight on the 26th in Berlin."""
    moment = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    assert _render(app, "de", "{{ t | datetime('short') }}", t=moment) == "26.11.26, 00:30"


def test_translated_catalogs_are_used_at_run_time(tmp_path: Path) -> None:
    """A compiled catalog is what the portal reads: the skip link follows the language."""
    catalogs = tmp_path / "translations"
    german = "Zum Inhalt springen"
    for locale in ("en", "pl", "dsb"):
        with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
            catalog = read_po(po, locale=locale)
        catalog[german].string = f"[{locale}] skip"
        target = catalogs / locale / "LC_MESSAGES"
        target.mkdir(parents=True)
        with (target / "messages.mo").open("wb") as mo:
            write_mo(mo, catalog)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unused.db'}",
            "BABEL_TRANSLATION_DIRECTORIES": str(catalogs),
        }
    )
    client = app.test_client()
    # Flask-Babel caches loaded catalogs on the (process-wide) Babel object by locale;
    # this app reads other files than the suite's, so it starts and ends with no cache.
    babel.domain_instance.cache.clear()
    try:
        for lang, expected in (("de", german), ("pl", "[pl] skip"), ("dsb", "[dsb] skip")):
            page = client.get(f"/static/no-such-file.css?lang={lang}").get_data(as_text=True)
            assert expected in page
    finally:
        babel.domain_instance.cache.clear()
