"""Reading what citizens type (German number and date habits) and writing stored answers back.

Stored answers are JSON values (see the package docstring); these functions convert
between them, the text a citizen types, and the Python values used for comparisons.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum import iban as stdnum_iban

_GROUPED = re.compile(r"^[0-9]{1,3}(\.[0-9]{3})+(,[0-9]+)?$")
_TIME_INPUT = re.compile(r"^([0-9]{1,2})[:.]([0-9]{2})$")


#: Languages whose decimal sign is a point (the rest of the portal's languages write a comma).
POINT_LANGUAGES = frozenset({"en"})
_GROUPED_EN = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$")


def parse_number(text: str, language: str = "de") -> Decimal | None:
    """A number as typed by a reader of ``language`` or in a stored answer.

    German, Polish, Lower Sorbian: 12,50 · 12.50 · 1.234,50 · 1 234,50 · 1234 — a comma is the
    decimal sign; dots are thousands separators only in groups of three before a comma or when
    there are several of them. English: 12.50 · 1,234.50 · 1,234 — commas in groups of three
    are thousands separators; a single comma not followed by exactly three digits (12,5) is
    still read as a decimal comma, as German habits are common among the portal's readers.
    Returns None for anything else.
    """
    cleaned = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    cleaned = cleaned.removesuffix("€").removesuffix("EUR").strip()
    cleaned = cleaned.removeprefix("€").removeprefix("EUR").strip()
    if not cleaned:
        return None
    if language in POINT_LANGUAGES and "," in cleaned:
        unsigned = cleaned.lstrip("+-")
        if _GROUPED_EN.match(unsigned):
            cleaned = cleaned.replace(",", "")
        elif "." in cleaned:
            return None
    if "," in cleaned:
        if "." in cleaned:
            if not _GROUPED.match(cleaned.lstrip("+-")):
                return None
            cleaned = cleaned.replace(".", "")
        if cleaned.count(",") > 1:
            return None
        cleaned = cleaned.replace(",", ".")
    elif cleaned.count(".") > 1:
        if not _GROUPED.match(cleaned.lstrip("+-")):
            return None
        cleaned = cleaned.replace(".", "")
    if not re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", cleaned):
        return None
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def decimal_places(number: Decimal) -> int:
    """How many digits after the decimal point ``number`` was written with."""
    exponent = number.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def format_number(value: Decimal | str, places: int, language: str = "de") -> str:
    """A stored number as a reader of ``language`` types it into an input: 1234,50 or 1234.50."""
    number = Decimal(str(value)).quantize(Decimal(1).scaleb(-places)) if places else Decimal(str(value))
    text = f"{number:f}"
    return text if language in POINT_LANGUAGES else text.replace(".", ",")


def parse_time(text: str) -> dt.time | None:
    """A time of day typed as 14:30, 8:05 or 14.30; None otherwise."""
    match = _TIME_INPUT.fullmatch(text.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def parse_date_parts(day: str, month: str, year: str) -> dt.date | None:
    """The date typed into day, month and year inputs (a four-digit year); None if impossible."""
    if not all(part.isascii() and part.isdigit() for part in (day, month, year)):
        return None
    if len(day) > 2 or len(month) > 2 or len(year) != 4:
        return None
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def compact_iban(text: str) -> str:
    """An IBAN without spaces, upper case (as stored)."""
    return str(stdnum_iban.compact(text))


def format_iban(value: str) -> str:
    """An IBAN in groups of four for reading: DE89 3704 0044 0532 0130 00."""
    return str(stdnum_iban.format(value))


def as_date(value: Any) -> dt.date | None:
    """A stored date answer ("YYYY-MM-DD") as a date; None if it is not one."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None
