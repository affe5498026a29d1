"""Locale-aware formatting of the values a document prints (money, times, file sizes), via Babel."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal

BERLIN = ZoneInfo("Europe/Berlin")


def babel_locale(language: str) -> str:
    """Babel's name for a BCP 47 language tag: "de-DE" -> "de_DE"."""
    return language.replace("-", "_")


def money(amount: Decimal, language: str = "de-DE") -> str:
    """An amount in euros as written in the language: "12,50 €" in German."""
    return format_currency(amount, "EUR", locale=babel_locale(language))


def local_time(moment: datetime, language: str = "de-DE") -> str:
    """An aware datetime as date and time in Europe/Berlin: "25.11.2026, 17:48"."""
    return format_datetime(moment, "dd.MM.yyyy, HH:mm", tzinfo=BERLIN, locale=babel_locale(language))


def file_size(size: int, language: str = "de-DE") -> str:
    """A byte count for people, with the exact figure: "200,0 KB (204.800 Bytes)"."""
    locale = babel_locale(language)
    exact = format_decimal(size, locale=locale)
    if size < 1024:
        return f"{exact} Bytes"
    scaled = Decimal(size) / 1024
    unit = "KB"
    if scaled >= 1024:
        scaled /= 1024
        unit = "MB"
    return f"{format_decimal(scaled, format='#,##0.0', locale=locale)} {unit} ({exact} Bytes)"
