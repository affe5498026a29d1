"""Event dates and times read the way each language writes them (Babel's CLDR patterns,
in Berlin time), not German's order with an English or Polish month name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from babel import Locale
from babel.dates import format_date, format_interval, format_time
from factories import make_commune
from flask.testing import FlaskClient
from flask_babel import refresh
from lxml import html

from app.timeutil import BERLIN

from .builders import event

START = datetime(2099, 5, 14, 16, 0, tzinfo=UTC)  # Thursday, 18:00 in Berlin (summer time)
LANGUAGES = ["de", "en", "pl", "dsb"]


def _words(text: str) -> str:
    """Whitespace collapsed (CLDR puts narrow and thin spaces in English times and ranges)."""
    return " ".join(text.split())


def _when(client: FlaskClient, url: str) -> str:
    refresh()
    response = client.get(url)
    assert response.status_code == 200, url
    tree = html.fromstring(response.get_data(as_text=True))
    (facts,) = tree.xpath("//dl[contains(@class, 'facts')]")
    return " ".join(_words(t.text_content()) for t in facts.xpath(".//time"))


def _joined(lang: str, time_text: str, moment: datetime) -> str:
    """What Babel makes of a full date and a time in ``lang``."""
    day = format_date(moment.astimezone(BERLIN).date(), "full", locale=lang)
    return str(Locale.parse(lang).datetime_formats["full"]).format(time_text, day)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_evening_event_shows_date_and_time_range_in_the_readers_order(
    client: FlaskClient, lang: str
) -> None:
    commune = make_commune("wer")
    end = START + timedelta(hours=2, minutes=30)
    event(commune, "Sommerkonzert", slug="konzert", starts_at=START, ends_at=end)
    clock = "Hm" if "H" in Locale.parse(lang).time_formats["short"].pattern else "hm"
    times = format_interval(START.astimezone(BERLIN), end.astimezone(BERLIN), clock, locale=lang)
    expected = _joined(lang, times, START)
    assert _when(client, f"/wer/events/konzert?lang={lang}") == _words(expected)


def test_the_four_languages_really_differ() -> None:
    """Guards the test above against a Babel that writes every language alike."""
    end = START + timedelta(hours=2, minutes=30)
    local = (START.astimezone(BERLIN), end.astimezone(BERLIN))
    samples = {lang: format_interval(*local, "Hm", locale=lang) for lang in LANGUAGES}
    assert samples["de"] == "18:00–20:30 Uhr"
    days = {lang: format_date(START.date(), "full", locale=lang) for lang in LANGUAGES}
    assert days["en"].startswith("Thursday, May 14") and days["pl"] == "czwartek, 14 maja 2099"
    assert len(set(days.values())) == 4


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_event_over_several_days_names_both_moments(client: FlaskClient, lang: str) -> None:
    commune = make_commune("wer")
    end = START + timedelta(days=2, hours=-4)
    event(commune, "Heidefest", slug="heidefest", starts_at=START, ends_at=end)
    expected = " ".join(
        _joined(lang, format_time(moment.astimezone(BERLIN), "short", locale=lang), moment)
        for moment in (START, end)
    )
    assert _when(client, f"/wer/events/heidefest?lang={lang}") == _words(expected)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_all_day_event_shows_the_full_date_only(client: FlaskClient, lang: str) -> None:
    commune = make_commune("wer")
    event(commune, "Markttag", slug="markt", starts_at=START, ends_at=START, all_day=True)
    assert _when(client, f"/wer/events/markt?lang={lang}") == _words(
        format_date(START.date(), "full", locale=lang)
    )
