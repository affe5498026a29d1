"""Translation hook and display formatting shared by the compiler and the summary.

The core never imports Flask: the web layer injects a ``gettext(msgid, **variables)``
callable (flask_babel's lazy_gettext). Without one, German source texts are used as they
are. Messages in this package are written as ``_("...")`` calls so pybabel extracts them.
Dates and times inside messages follow the same indirection: the web layer injects a
``language()`` callable, asked when the message is worded (Babel's CLDR formats).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal

#: The injected translation callable: gettext(msgid, **variables) -> str or lazy string.
Gettext = Callable[..., Any]
#: The injected language callable: the reader's language ("de", "en", "pl", "dsb") when called.
Language = Callable[[], str]

_MEDIA_TYPE_NAMES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "image/heic": "HEIC",
    "image/tiff": "TIFF",
    "text/plain": "Text",
    "text/csv": "CSV",
    "application/xml": "XML",
    "application/json": "JSON",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (DOCX)",
    "application/vnd.oasis.opendocument.text": "OpenDocument-Text (ODT)",
}


def untranslated(message: str, **variables: Any) -> str:
    """The German source text with its %(name)s variables filled in (gettext's contract)."""
    return message % variables if variables else message


def N_(message: str) -> str:
    """Mark ``message`` for extraction (pybabel's default keyword); it is translated where used."""
    return message


def german() -> str:
    """The source language: messages are German when no language is injected."""
    return "de"


class Localised:
    """A date, a time of day or a number that writes itself in the reader's language when made text.

    Passed as a message variable, it is formatted when the message is: with a lazy gettext
    that is when the page is rendered, in the language asked for then. A date reads
    "01.01.2026", "Jan 1, 2026" or "1 sty 2026"; a time "08:00", "8:00 AM" or "8:00"; the
    number 1234.5 "1.234,5" or "1,234.5"; with ``currency="EUR"`` "1.234,50 €" or "€1,234.50".
    Numbers keep the decimal places they are given (``places`` pads them).
    """

    __slots__ = ("_currency", "_language", "_places", "_value")

    def __init__(
        self,
        value: dt.date | dt.time | Decimal,
        language: Language,
        *,
        places: int | None = None,
        currency: str | None = None,
    ) -> None:
        self._value = value
        self._language = language
        self._places = places
        self._currency = currency

    def __str__(self) -> str:
        locale = self._language()
        value = self._value
        if isinstance(value, Decimal):
            if self._currency:
                return str(format_currency(value, self._currency, locale=locale))
            places = self._places if self._places is not None else max(0, -value.as_tuple().exponent)
            pattern = "#,##0" + ("." + "0" * places if places else "")
            return str(format_decimal(value, format=pattern, locale=locale, decimal_quantization=False))
        if isinstance(value, dt.time):
            return str(format_time(value, "short", locale=locale))
        return str(format_date(value, "medium", locale=locale))

    def __repr__(self) -> str:
        return f"Localised({self._value!r})"


def media_type_name(media_type: str) -> str:
    """A short human name for a media type (PDF, JPEG, ...)."""
    if media_type in _MEDIA_TYPE_NAMES:
        return _MEDIA_TYPE_NAMES[media_type]
    if media_type.endswith("/*"):
        return media_type
    return media_type.rsplit("/", 1)[-1].upper()


def human_size(size: int) -> str:
    """A file size the way German users read it: 500 KB, 2,5 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    megabytes = f"{size / (1024 * 1024):.1f}".replace(".", ",")
    return f"{megabytes.removesuffix(',0')} MB"
