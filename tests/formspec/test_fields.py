"""Each field type accepts what it must and rejects what it must, with a clear message."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from app.formspec import ServiceSpec, step_answers

from .builders import PDF_BYTES, PNG_BYTES, TODAY, bound, errors_of, service_with, upload

ALL_TYPES = """
- {name: text, type: text, label: Name, min_length: 2, max_length: 10, pattern: '[A-Za-zäöü ]+',
   pattern_message: Bitte nur Buchstaben., required: false}
- {name: textarea, type: textarea, label: Nachricht, max_length: 20, required: false}
- {name: email, type: email, label: E-Mail, required: false}
- {name: phone, type: phone, label: Telefon, required: false}
- {name: integer, type: integer, label: Anzahl, min: 1, max: 5, required: false}
- {name: decimal, type: decimal, label: Fläche, min: 0.5, max: 100, places: 1, required: false}
- {name: money, type: money, label: Betrag, min: 0, max: 10000, required: false}
- {name: date, type: date, label: Geburtsdatum, min: -120y, max: -18y, required: false}
- {name: termin, type: date, label: Termin, min: today, max: +30d, required: false}
- {name: time, type: time, label: Uhrzeit, min: "08:00", max: "18:00", required: false}
- name: select
  type: select
  label: Auswahl
  required: false
  options: [{value: a, label: A}, {value: b, label: B}]
- name: radio
  type: radio
  label: Radio
  required: false
  options: [{value: ja, label: Ja}, {value: nein, label: Nein}]
- {name: checkbox, type: checkbox, label: Häkchen}
- name: multi
  type: multicheckbox
  label: Mehrfach
  required: false
  max_choices: 2
  options: [{value: x, label: X}, {value: y, label: Y}, {value: z, label: Z}]
- {name: file, type: file, label: Datei, accept: [application/pdf], max_size: 1 KB, required: false}
- {name: files, type: file, label: Dateien, accept: [image/png, application/pdf], multiple: true,
   max_files: 2, required: false}
- {name: iban, type: iban, label: IBAN, required: false}
- {name: plz, type: postal_code, label: PLZ, required: false}
- {name: adresse, type: address, label: Anschrift, required: false}
- {name: hilfe, type: help, text: "Nur **Text**."}
"""


@pytest.fixture(scope="module")
def service() -> ServiceSpec:
    return service_with(ALL_TYPES)


def _post(service: ServiceSpec, data: dict[str, Any] | MultiDict[str, Any]) -> tuple[bool, Any]:
    form = bound(service, "angaben", data)
    return form.validate(), form


VALID = [
    ("text", {"text": "  Anna "}, "Anna"),
    ("textarea", {"textarea": "Hallo"}, "Hallo"),
    ("email", {"email": "anna@example.de"}, "anna@example.de"),
    ("phone", {"phone": "+49 33398 12345"}, "+49 33398 12345"),
    ("integer", {"integer": "3"}, 3),
    ("decimal", {"decimal": "12,5"}, "12.5"),
    ("money", {"money": "12,50"}, "12.50"),
    ("money", {"money": "1.234,5 €"}, "1234.50"),
    ("money", {"money": "7"}, "7.00"),
    ("date", {"date-day": "1", "date-month": "2", "date-year": "1990"}, "1990-02-01"),
    ("termin", {"termin-day": "15", "termin-month": "3", "termin-year": "2026"}, "2026-03-15"),
    ("termin", {"termin-day": "14", "termin-month": "4", "termin-year": "2026"}, "2026-04-14"),
    ("time", {"time": "8.30"}, "08:30"),
    ("select", {"select": "b"}, "b"),
    ("radio", {"radio": "ja"}, "ja"),
    ("checkbox", {"checkbox": "y"}, True),
    ("checkbox", {}, False),
    ("multi", MultiDict([("multi", "z"), ("multi", "x")]), ["x", "z"]),
    ("iban", {"iban": "de89 3704 0044 0532 0130 00"}, "DE89370400440532013000"),
    ("plz", {"plz": "16356"}, "16356"),
    (
        "adresse",
        {
            "adresse-street": "Am Markt",
            "adresse-house_number": "5a",
            "adresse-postal_code": "16356",
            "adresse-town": "W",
        },
        {"street": "Am Markt", "house_number": "5a", "postal_code": "16356", "town": "W"},
    ),
]


@pytest.mark.parametrize(("name", "data", "expected"), VALID)
def test_valid_input_is_accepted_and_stored_as_json(
    service: ServiceSpec, name: str, data: Any, expected: Any
) -> None:
    ok, form = _post(service, data)
    assert ok, errors_of(form)
    assert step_answers(service, "angaben", form, {}).get(name) == expected


INVALID = [
    ("text", {"text": "A"}, "„Name“ muss mindestens 2 Zeichen lang sein."),
    ("text", {"text": "Annabellchen"}, "„Name“ darf höchstens 10 Zeichen lang sein."),
    ("text", {"text": "Anna1"}, "Bitte nur Buchstaben."),
    ("textarea", {"textarea": "x" * 21}, "„Nachricht“ darf höchstens 20 Zeichen lang sein."),
    ("email", {"email": "anna@example"}, "Geben Sie eine E-Mail-Adresse im richtigen Format an"),
    ("email", {"email": "anna example.de"}, "Geben Sie eine E-Mail-Adresse im richtigen Format an"),
    ("phone", {"phone": "abc"}, "Geben Sie eine Telefonnummer an"),
    ("integer", {"integer": "drei"}, "Geben Sie bei „Anzahl“ eine ganze Zahl an"),
    ("integer", {"integer": "2,5"}, "Geben Sie bei „Anzahl“ eine ganze Zahl an"),
    ("integer", {"integer": "6"}, "„Anzahl“ muss zwischen 1 und 5 liegen."),
    ("decimal", {"decimal": "0,4"}, "„Fläche“ muss zwischen 0,5 und 100 liegen."),
    ("decimal", {"decimal": "1,25"}, "„Fläche“ darf höchstens 1 Nachkommastellen haben."),
    ("money", {"money": "12,505"}, "höchstens zwei Nachkommastellen"),
    ("money", {"money": "zwölf"}, "einen Betrag in Euro an"),
    ("money", {"money": "1e5"}, "einen Betrag in Euro an"),
    ("money", {"money": "-1"}, "„Betrag“ muss zwischen 0,00\u00a0€ und 10.000,00\u00a0€ liegen."),
    ("money", {"money": "9" * 40}, "„Betrag“ ist zu groß."),
    ("integer", {"integer": "1" + "0" * 30}, "„Anzahl“ ist zu groß."),
    ("date", {"date-day": "31", "date-month": "2", "date-year": "1990"}, "muss ein gültiges Datum sein"),
    ("date", {"date-day": "1", "date-month": "2", "date-year": "90"}, "muss ein gültiges Datum sein"),
    (
        "date",
        {"date-day": "0", "date-month": "2147483648", "date-year": "1000"},
        "muss ein gültiges Datum sein",
    ),
    ("date", {"date-day": "001", "date-month": "02", "date-year": "1990"}, "muss ein gültiges Datum sein"),
    (
        "date",
        {"date-day": "16", "date-month": "3", "date-year": "2008"},
        "darf nicht nach dem 15.03.2008 liegen",
    ),
    (
        "date",
        {"date-day": "1", "date-month": "1", "date-year": "1900"},
        "darf nicht vor dem 15.03.1906 liegen",
    ),
    ("termin", {"termin-day": "14", "termin-month": "3", "termin-year": "2026"}, "nicht vor dem 15.03.2026"),
    ("termin", {"termin-day": "15", "termin-month": "4", "termin-year": "2026"}, "nicht nach dem 14.04.2026"),
    ("time", {"time": "25:00"}, "Geben Sie die Uhrzeit als Stunden:Minuten an"),
    ("time", {"time": "07:59"}, "„Uhrzeit“ muss zwischen 08:00 und 18:00 Uhr liegen."),
    ("select", {"select": "c"}, "Wählen Sie eine der angebotenen Antworten aus."),
    ("radio", {"radio": "vielleicht"}, "Wählen Sie eine der angebotenen Antworten aus."),
    ("multi", MultiDict([("multi", "x"), ("multi", "q")]), "Wählen Sie eine der angebotenen Antworten aus."),
    (
        "multi",
        MultiDict([("multi", "x"), ("multi", "y"), ("multi", "z")]),
        "Wählen Sie höchstens 2 Antworten aus.",
    ),
    ("iban", {"iban": "DE89 3704 0044 0532 0130 01"}, "Die Prüfziffer der IBAN stimmt nicht."),
    ("iban", {"iban": "DE89 3704 0044 0532 0130"}, "nicht die richtige Länge"),
    ("iban", {"iban": "XX89 3704 0044 0532 0130 00"}, "bekannten Ländercode"),
    ("iban", {"iban": "ß00\x1b"}, "Geben Sie eine IBAN an"),
    ("iban", {"iban": "DE89 3704 0044 0532 013!"}, "nicht die richtige Länge oder Form"),
    ("plz", {"plz": "1635"}, "Geben Sie eine Postleitzahl mit fünf Ziffern an"),
    ("plz", {"plz": "163567"}, "Geben Sie eine Postleitzahl mit fünf Ziffern an"),
    ("adresse", {"adresse-street": "Am Markt"}, "Geben Sie die Hausnummer an."),
    (
        "adresse",
        {
            "adresse-street": "A",
            "adresse-house_number": "1",
            "adresse-postal_code": "1234",
            "adresse-town": "W",
        },
        "Postleitzahl mit fünf Ziffern",
    ),
    (
        "adresse",
        {"adresse-street": "A", "adresse-house_number": "1", "adresse-postal_code": "12345"},
        "Geben Sie den Ort an.",
    ),
]


@pytest.mark.parametrize(("name", "data", "message"), INVALID)
def test_invalid_input_is_rejected_with_a_clear_message(
    service: ServiceSpec, name: str, data: Any, message: str
) -> None:
    ok, form = _post(service, data)
    assert not ok
    errors = errors_of(form)
    assert list(errors) == [name]
    assert message in errors[name][0]


def test_required_fields_say_what_is_missing() -> None:
    service = service_with(
        """
        - {name: vorname, type: text, label: Vorname}
        - name: art
          type: radio
          label: Art
          options: [{value: a, label: A}]
        - {name: ok, type: checkbox, label: Einverstanden, required: true}
        - {name: datei, type: file, label: Nachweis}
        - {name: tag, type: date, label: Tag}
        - {name: adresse, type: address, label: Anschrift}
        """
    )
    ok, form = _post(service, {})
    assert not ok
    assert errors_of(form) == {
        "vorname": ["Geben Sie „Vorname“ an."],
        "art": ["Wählen Sie bei „Art“ eine Antwort aus."],
        "ok": ["Setzen Sie das Häkchen bei „Einverstanden“."],
        "datei": ["Laden Sie eine Datei für „Nachweis“ hoch."],
        "tag": ["Geben Sie „Tag“ an (Tag, Monat und Jahr)."],
        "adresse": ["Geben Sie „Anschrift“ an (Straße, Hausnummer, Postleitzahl und Ort)."],
    }
    assert form.vorname.flags.required and form.datei.flags.required


def test_consent_must_be_given() -> None:
    service = service_with("- {name: vorname, type: text, label: Vorname}")
    form = bound(service, "abschluss", {})
    assert not form.validate()
    assert errors_of(form) == {
        "datenschutz": [
            "Setzen Sie das Häkchen bei „Ich habe die Datenschutzhinweise zur Kenntnis genommen.“."
        ]
    }
    assert bound(service, "abschluss", {"datenschutz": "y"}).validate()


def test_file_accepted_by_content_and_returned_for_storing(service: ServiceSpec) -> None:
    pdf = upload(PDF_BYTES, "antrag.pdf")
    ok, form = _post(service, {"file": pdf})
    assert ok, errors_of(form)
    assert step_answers(service, "angaben", form, {})["file"] is pdf


def test_file_whose_bytes_are_not_of_an_accepted_type_is_rejected(service: ServiceSpec) -> None:
    """A PNG renamed to .pdf is still a PNG: the type is judged by content."""
    ok, form = _post(service, {"file": upload(PNG_BYTES, "getarnt.pdf")})
    assert not ok
    assert errors_of(form)["file"] == [
        "Die Datei „getarnt.pdf“ hat kein erlaubtes Format. Erlaubt sind: PDF."
    ]


def test_executable_disguised_as_pdf_is_rejected(service: ServiceSpec) -> None:
    ok, form = _post(service, {"file": upload(b"MZ\x90\x00" + b"\x00" * 200, "rechnung.pdf")})
    assert not ok and "kein erlaubtes Format" in errors_of(form)["file"][0]


def test_file_over_its_size_is_rejected(service: ServiceSpec) -> None:
    ok, form = _post(service, {"file": upload(PDF_BYTES + b"0" * 1024, "gross.pdf")})
    assert not ok
    assert errors_of(form)["file"] == [
        "Die Datei „gross.pdf“ ist zu groß (1 KB); erlaubt sind höchstens 1 KB."
    ]


def test_empty_file_is_rejected(service: ServiceSpec) -> None:
    ok, form = _post(service, {"file": upload(b"", "leer.pdf")})
    assert not ok and errors_of(form)["file"] == ["Die Datei „leer.pdf“ ist leer."]


def test_an_unchosen_file_input_counts_as_no_upload(service: ServiceSpec) -> None:
    ok, form = _post(service, {"file": upload(b"", "")})
    assert ok and "file" not in step_answers(service, "angaben", form, {})


def test_multiple_files_and_their_limit(service: ServiceSpec) -> None:
    two = MultiDict([("files", upload(PNG_BYTES, "a.png")), ("files", upload(PDF_BYTES, "b.pdf"))])
    ok, form = _post(service, two)
    assert ok, errors_of(form)
    assert [item.filename for item in step_answers(service, "angaben", form, {})["files"]] == [
        "a.png",
        "b.pdf",
    ]
    three = MultiDict([("files", upload(PNG_BYTES, f"{index}.png")) for index in range(3)])
    ok, form = _post(service, three)
    assert not ok and errors_of(form)["files"] == ["Laden Sie höchstens 2 Dateien hoch."]


def test_single_file_field_refuses_several_uploads(service: ServiceSpec) -> None:
    data = MultiDict([("file", upload(PDF_BYTES, "a.pdf")), ("file", upload(PDF_BYTES, "b.pdf"))])
    ok, form = _post(service, data)
    assert not ok and errors_of(form)["file"] == ["Laden Sie hier nur eine Datei hoch."]


def test_required_file_is_satisfied_by_an_earlier_upload() -> None:
    service = service_with("- {name: nachweis, type: file, label: Nachweis}")
    stored = {
        "filename": "a.pdf",
        "media_type": "application/pdf",
        "size": 10,
        "sha256": "0" * 64,
        "storage_key": "k",
    }
    form = bound(service, "angaben", {}, answers={"nachweis": stored})
    assert form.validate()
    assert step_answers(service, "angaben", form, {"nachweis": stored}) == {"nachweis": stored}
    assert form.existing_files("nachweis") == [stored]


def test_text_types_are_sniffed_from_content() -> None:
    service = service_with(
        "- {name: daten, type: file, label: Daten, accept: [application/xml, application/json, text/csv]}"
    )
    for content, name in [
        (b"<?xml version='1.0'?><a/>", "a.xml"),
        (b'{"a": 1}', "a.json"),
        (b"a;b\n1;2\n", "a.csv"),
    ]:
        ok, form = _post(service, {"daten": upload(content, name)})
        assert ok, (name, errors_of(form))
    ok, form = _post(service, {"daten": upload(b"\x00\x01\x02binary", "a.xml")})
    assert not ok


def test_money_and_decimal_are_prefilled_the_german_way(service: ServiceSpec) -> None:
    answers = {"money": "1234.50", "decimal": "12.5", "iban": "DE89370400440532013000", "date": "1990-02-01"}
    form = bound(service, "angaben", None, answers=answers)
    assert form.money._value() == "1234,50"
    assert form.decimal._value() == "12,5"
    assert form.iban._value() == "DE89 3704 0044 0532 0130 00"
    assert [sub.value for sub in form.date.subfields] == ["1", "2", "1990"]


def test_compound_fields_expose_sub_inputs_with_autocomplete() -> None:
    service = service_with(
        """
        - {name: geburtsdatum, type: date, label: Geburtsdatum, autocomplete: bday}
        - {name: anschrift, type: address, label: Anschrift}
        """
    )
    form = bound(service, "angaben", None)
    assert form.geburtsdatum.id == "geburtsdatum-day"
    assert [(s.name, s.autocomplete) for s in form.geburtsdatum.subfields] == [
        ("geburtsdatum-day", "bday-day"),
        ("geburtsdatum-month", "bday-month"),
        ("geburtsdatum-year", "bday-year"),
    ]
    assert [(s.id, s.autocomplete) for s in form.anschrift.subfields] == [
        ("anschrift-street", "street-address"),
        ("anschrift-house_number", None),
        ("anschrift-postal_code", "postal-code"),
        ("anschrift-town", "address-level2"),
    ]


def test_personal_data_fields_carry_autocomplete(service: ServiceSpec) -> None:
    form = bound(service, "angaben", None)
    assert form.email.render_kw["autocomplete"] == "email"
    assert form.phone.render_kw["autocomplete"] == "tel"
    assert form.field_specs["email"].autocomplete == "email"


def test_help_fields_take_no_answer(service: ServiceSpec) -> None:
    ok, form = _post(service, {"hilfe": "eingeschmuggelt"})
    assert ok
    assert "hilfe" not in step_answers(service, "angaben", form, {})
    assert form.field_specs["hilfe"].text == "Nur **Text**."


def test_messages_go_through_the_injected_gettext() -> None:
    from app.formspec import bind_step_form, step_form_class

    calls: list[str] = []

    def fake_gettext(message: str, **variables: Any) -> str:
        calls.append(message)
        return "[en] " + (message % variables if variables else message)

    service = service_with("- {name: plz, type: postal_code, label: Postleitzahl}")
    form = bind_step_form(
        step_form_class(service, "angaben", fake_gettext), MultiDict({"plz": "1"}), {}, today=TODAY
    )
    assert not form.validate()
    assert form.plz.errors == ["[en] Geben Sie eine Postleitzahl mit fünf Ziffern an, z. B. 16356."]
    assert str(form.plz.label.text) == "[en] Postleitzahl"
    assert "Postleitzahl" in calls


def test_step_form_classes_are_cached_per_version_and_step(service: ServiceSpec) -> None:
    from app.formspec import step_form_class
    from app.formspec.texts import untranslated

    assert step_form_class(service, "angaben", untranslated) is step_form_class(
        service, "angaben", untranslated
    )
    assert step_form_class(service, "angaben", untranslated) is not step_form_class(
        service, "abschluss", untranslated
    )
    with pytest.raises(KeyError):
        step_form_class(service, "gibt-es-nicht", untranslated)


def test_unknown_post_keys_are_ignored(service: ServiceSpec) -> None:
    ok, form = _post(service, {"text": "Anna", "is_admin": "1", "datenschutz": "y"})
    assert ok
    assert set(step_answers(service, "angaben", form, {})) == {"text", "checkbox"}


def test_step_answers_needs_a_validated_form(service: ServiceSpec) -> None:
    form = bound(service, "angaben", {"text": "A"})
    with pytest.raises(ValueError):
        step_answers(service, "angaben", form, {})
    assert not form.validate()
    with pytest.raises(ValueError):
        step_answers(service, "angaben", form, {})


def test_money_amounts_are_decimal_strings(service: ServiceSpec) -> None:
    ok, form = _post(service, {"money": "0,1"})
    assert ok
    assert Decimal(step_answers(service, "angaben", form, {})["money"]) == Decimal("0.10")


def test_huge_numbers_without_limits_are_refused_not_crashing() -> None:
    service = service_with(
        """
        - {name: betrag, type: money, label: Betrag}
        - {name: zahl, type: decimal, label: Zahl}
        """
    )
    form = bound(service, "angaben", {"betrag": "9" * 60, "zahl": "1" * 60})
    assert not form.validate()
    assert errors_of(form) == {"betrag": ["„Betrag“ ist zu groß."], "zahl": ["„Zahl“ ist zu groß."]}
