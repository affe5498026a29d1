"""Dates and times in validation messages are written the way the reader's language writes them.

The compiler gets the reader's language the way it gets gettext: injected, and asked when a
message is worded. German keeps its old wording (31.12.2026, 08:00 … Uhr).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from babel.support import LazyProxy
from werkzeug.datastructures import MultiDict

from app.formspec import bind_step_form, step_answers, step_form_class
from app.formspec.texts import Gettext, Language, untranslated

from .builders import TODAY, service_with

SERVICE = service_with(
    """
    - {name: termin, type: date, label: Termin, min: "2026-01-01", max: "2026-12-31", required: false}
    - {name: beginn, type: time, label: Beginn, min: "08:00", max: "18:00", required: false}
    - {name: ende, type: time, label: Ende, max: "22:00", required: false}
    """
)
EARLY = {"termin-day": "31", "termin-month": "12", "termin-year": "2025"}
LATE = {"termin-day": "1", "termin-month": "1", "termin-year": "2027"}


def _errors(
    data: dict[str, str], language: Language, gettext: Gettext = untranslated, service: Any = None
) -> dict[str, list[Any]]:
    form_class = step_form_class(service or SERVICE, "angaben", gettext, language)
    form = bind_step_form(form_class, MultiDict(data), {}, today=TODAY)
    assert not form.validate()
    return {name: list(field.errors) for name, field in form._fields.items() if field.errors}


def _german() -> str:
    return "de"


def _english() -> str:
    return "en"


def _polish() -> str:
    return "pl"


@pytest.mark.parametrize(
    ("language", "data", "field", "expected"),
    [
        (_german, EARLY, "termin", "„Termin“ darf nicht vor dem 01.01.2026 liegen."),
        (_german, LATE, "termin", "„Termin“ darf nicht nach dem 31.12.2026 liegen."),
        (_english, EARLY, "termin", "„Termin“ darf nicht vor dem Jan 1, 2026 liegen."),
        (_english, LATE, "termin", "„Termin“ darf nicht nach dem Dec 31, 2026 liegen."),
        (_polish, EARLY, "termin", "„Termin“ darf nicht vor dem 1 sty 2026 liegen."),
        (_polish, LATE, "termin", "„Termin“ darf nicht nach dem 31 gru 2026 liegen."),
        (_german, {"beginn": "7:30"}, "beginn", "„Beginn“ muss zwischen 08:00 und 18:00 Uhr liegen."),
        (
            _english,
            {"beginn": "18:01"},
            "beginn",
            "„Beginn“ muss zwischen 8:00\u202fAM und 6:00\u202fPM Uhr liegen.",
        ),
        (_polish, {"beginn": "7:30"}, "beginn", "„Beginn“ muss zwischen 08:00 und 18:00 Uhr liegen."),
        (_german, {"ende": "23:00"}, "ende", "„Ende“ muss zwischen 00:00 und 22:00 Uhr liegen."),
        (
            _english,
            {"ende": "23:00"},
            "ende",
            "„Ende“ muss zwischen 12:00\u202fAM und 10:00\u202fPM Uhr liegen.",
        ),
    ],
)
def test_date_and_time_limits_are_written_in_the_readers_language(
    language: Language, data: dict[str, str], field: str, expected: str
) -> None:
    assert [str(message) for message in _errors(data, language)[field]] == [expected]


def test_without_a_language_the_limits_are_german() -> None:
    form = bind_step_form(step_form_class(SERVICE, "angaben", untranslated), MultiDict(LATE), {}, today=TODAY)
    assert not form.validate()
    assert form.termin.errors == ["„Termin“ darf nicht nach dem 31.12.2026 liegen."]


def test_the_language_is_asked_when_the_message_is_worded() -> None:
    """With a lazy gettext the page is worded after validation: the date follows the language then."""
    current = {"language": "de"}

    def lazy_gettext(message: str, **variables: Any) -> LazyProxy:
        return LazyProxy(untranslated, message, enable_cache=False, **variables)

    def language() -> str:
        return current["language"]

    errors = _errors({**EARLY, "beginn": "7:30"}, language, lazy_gettext)
    current["language"] = "pl"
    assert str(errors["termin"][0]) == "„Termin“ darf nicht vor dem 1 sty 2026 liegen."
    current["language"] = "en"
    assert str(errors["beginn"][0]) == "„Beginn“ muss zwischen 8:00\u202fAM und 6:00\u202fPM Uhr liegen."


def test_step_form_classes_are_cached_per_language() -> None:
    german = step_form_class(SERVICE, "angaben", untranslated, _german)
    assert step_form_class(SERVICE, "angaben", untranslated, _german) is german
    assert step_form_class(SERVICE, "angaben", untranslated, _polish) is not german


NUMBERS = service_with(
    """
    - {name: anzahl, type: integer, label: Anzahl, min: 1, max: 10000, required: false}
    - {name: menge, type: decimal, label: Menge, min: 0.5, max: 1250.75, places: 2, required: false}
    - {name: betrag, type: money, label: Betrag, min: 5, max: 10000, required: false}
    """
)


@pytest.mark.parametrize(
    ("language", "data", "field", "expected"),
    [
        (_german, {"anzahl": "0"}, "anzahl", "„Anzahl“ muss zwischen 1 und 10.000 liegen."),
        (_english, {"anzahl": "0"}, "anzahl", "„Anzahl“ muss zwischen 1 und 10,000 liegen."),
        (_german, {"menge": "0,25"}, "menge", "„Menge“ muss zwischen 0,5 und 1.250,75 liegen."),
        (_english, {"menge": "0,25"}, "menge", "„Menge“ muss zwischen 0.5 und 1,250.75 liegen."),
        (_polish, {"menge": "0,25"}, "menge", "„Menge“ muss zwischen 0,5 und 1\u00a0250,75 liegen."),
        (
            _german,
            {"betrag": "1"},
            "betrag",
            "„Betrag“ muss zwischen 5,00\u00a0€ und 10.000,00\u00a0€ liegen.",
        ),
        (_english, {"betrag": "1"}, "betrag", "„Betrag“ muss zwischen €5.00 und €10,000.00 liegen."),
    ],
)
def test_number_limits_are_written_in_the_readers_language(
    language: Language, data: dict[str, str], field: str, expected: str
) -> None:
    assert [str(message) for message in _errors(data, language, service=NUMBERS)[field]] == [expected]


@pytest.mark.parametrize(
    ("data", "field", "msgid"),
    [
        ({"anzahl": "drei"}, "anzahl", "Geben Sie bei „%(label)s“ eine ganze Zahl an, z. B. 3."),
        ({"menge": "viel"}, "menge", "Geben Sie bei „%(label)s“ eine Zahl an, z. B. 12,5."),
        ({"betrag": "teuer"}, "betrag", "Geben Sie bei „%(label)s“ einen Betrag in Euro an, z. B. 12,50."),
    ],
)
def test_number_format_messages_are_in_the_catalogs(data: dict[str, str], field: str, msgid: str) -> None:
    """These messages reach gettext through a variable: they must still be extracted and translated."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    errors = _errors(data, _german, service=NUMBERS)[field]
    assert [str(message) for message in errors] == [msgid % {"label": field.title()}]
    root = Path(__file__).resolve().parents[2] / "translations"
    for language in ("en", "pl", "dsb"):
        with (root / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
            message = read_po(po).get(msgid)
        assert message is not None and message.string, (language, msgid)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("de", "14:30"), ("en", "2:30\u202fPM"), ("pl", "14:30"), ("dsb", "14:30")],
)
def test_time_answers_are_shown_in_the_readers_language(locale: str, expected: str) -> None:
    from app.formspec.answers import display_text

    field = SERVICE.form.field("beginn")
    assert field is not None
    assert display_text(field, "14:30", locale=locale) == expected
    assert display_text(field, "kaputt", locale=locale) == "kaputt"  # an old answer shown as it is


@pytest.mark.parametrize(
    ("language", "typed", "expected"),
    [
        ("de", "1.234,50", Decimal("1234.50")),
        ("de", "12,5", Decimal("12.5")),
        ("de", "12.5", Decimal("12.5")),
        ("pl", "1\u00a0234,50", Decimal("1234.50")),
        ("en", "1,234.50", Decimal("1234.50")),
        ("en", "1,234", Decimal("1234")),  # a thousands separator, not 1.234
        ("en", "-1,234,567.5", Decimal("-1234567.5")),
        ("en", "12.5", Decimal("12.5")),
        ("en", "12,5", Decimal("12.5")),  # not a group of three: still a decimal comma
        ("en", "€1,234.50", Decimal("1234.50")),
        ("en", "1.234,50", None),  # German grouping with a point-language reader: ambiguous
        ("en", "12,34.5", None),
        ("de", "1,234.50", None),
    ],
)
def test_numbers_are_read_the_way_the_reader_writes_them(
    language: str, typed: str, expected: Decimal | None
) -> None:
    from app.formspec.values import parse_number

    assert parse_number(typed, language) == expected


@pytest.mark.parametrize("language", ["de", "en", "pl", "dsb"])
def test_a_stored_number_shown_again_reads_back_as_the_same_answer(language: str) -> None:
    """Going back to a step shows the answers in the reader's own notation, and sending the step
    unchanged keeps them (an English reader shown "1234,50" would have sent 123450)."""
    def reader() -> str:
        return language

    form_class = step_form_class(NUMBERS, "angaben", untranslated, reader)
    answers = {"menge": "1234.50", "betrag": "1234.50", "anzahl": 1234}
    shown = bind_step_form(form_class, None, answers, today=TODAY)
    typed = MultiDict({name: shown[name].data for name in ("menge", "betrag", "anzahl")})
    assert typed["betrag"] == ("1234.50" if language == "en" else "1234,50")
    sent = bind_step_form(form_class, typed, answers, today=TODAY)
    assert sent.validate(), {name: field.errors for name, field in sent._fields.items() if field.errors}
    assert step_answers(NUMBERS, "angaben", sent, answers) == answers
