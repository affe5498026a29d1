"""Dates and times written the way the reader's language writes them.

Babel's CLDR data gives the order of weekday, day, month and year, the clock (24 or
12 hours) and how a date and a time are joined; a time range on one day uses CLDR's
interval patterns, so German reads "18:00–20:30 Uhr" and Lower Sorbian "zeg. 18:00 – 20:30"
without a word of our own. Times are shown in Europe/Berlin through zoneinfo (pytz, which
Flask-Babel's own filters use, stops knowing summer time after 2037).
"""

from __future__ import annotations

from datetime import datetime

from babel import Locale
from babel.dates import format_date, format_interval, format_time
from flask_babel import get_locale

from app.timeutil import to_berlin


def _locale() -> Locale:
    return get_locale() or Locale.parse("de")


def _clock_skeleton(locale: Locale) -> str:
    """``Hm`` where the language counts 24 hours, ``hm`` where it says AM and PM."""
    return "Hm" if "H" in locale.time_formats["short"].pattern else "hm"


def _day_and_time(locale: Locale, moment: datetime, time_text: str) -> str:
    day = format_date(to_berlin(moment), "full", locale=locale)
    return str(locale.datetime_formats["full"]).format(time_text, day)


def format_moment(moment: datetime) -> str:
    """A weekday, date and time: "Donnerstag, 14. Mai 2026, 18:00", "Thursday, May 14, 2026, 6:00 PM"."""
    locale = _locale()
    time_text = format_time(to_berlin(moment), "short", locale=locale)
    return _day_and_time(locale, moment, time_text)


def format_day_with_times(start: datetime, end: datetime) -> str:
    """One day with a time range: "Donnerstag, 14. Mai 2026, 18:00–20:30 Uhr".

    Both moments lie on the same day in the portal's timezone; equal moments give a
    single time.
    """
    if start == end:
        return format_moment(start)
    locale = _locale()
    times = format_interval(to_berlin(start), to_berlin(end), _clock_skeleton(locale), locale=locale)
    return _day_and_time(locale, start, times)


def format_deadline(moment: datetime) -> str:
    """A date and time for "valid until …" in e-mails: "7. Dezember 2026, 14:30", "7 grudnia 2026 14:30".

    Outside a request the language is the one of ``flask_babel.force_locale``.
    """
    locale = _locale()
    local = to_berlin(moment)
    day = format_date(local, "long", locale=locale)
    time_text = format_time(local, "short", locale=locale)
    return str(locale.datetime_formats["long"]).format(time_text, day)
