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


def parse_number(text: str) -> Decimal | None:
    """A number as typed in Germany or in a stored answer: 12,50 · 12.50 · 1.234,50 · 1234.

    A comma is the decimal sign; dots are thousands separators only in groups of three
    before a comma or when there are several of them. Returns None for anything else.
    """
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").removesuffix("€").removesuffix("EUR")
    cleaned = cleaned.strip().removeprefix("€").removeprefix("EUR").strip()
    if not cleaned:
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


def format_number(value: Decimal | str, places: int) -> str:
    """A stored number as a German reads it back in an input: 1234,50."""
    number = Decimal(str(value)).quantize(Decimal(1).scaleb(-places)) if places else Decimal(str(value))
    return f"{number:f}".replace(".", ",")


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
