"""Parsing definitions into frozen, typed specs; versions; stored sources."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest

from app.formspec import (
    ConditionOperator,
    DateBound,
    FieldType,
    InvalidSpec,
    ServiceSpec,
    YamlSyntaxError,
    load_catalogue,
)

from .builders import FORMS_DIR, parse, service_with


def test_service_description_fields_are_read() -> None:
    service = parse(
        """
        title: Hund anmelden
        short_text: Kurz.
        description: |
          Lang **mit** Markdown.
        audience: Alle Hundehalter.
        required_documents: [Nachweis A, Nachweis B]
        legal_basis: ["§ 1 Satzung"]
        processing_time: 2 Wochen
        office_kind: kaemmerei
        leika_key: "99102013104000"
        topic: Steuern
        retention_days: 30
        online: false
        """
    )
    assert service.title == "Hund anmelden"
    assert service.description.startswith("Lang **mit** Markdown.")
    assert service.required_documents == ("Nachweis A", "Nachweis B")
    assert service.legal_basis == ("§ 1 Satzung",)
    assert service.office_kind == "kaemmerei"
    assert service.leika_key == "99102013104000"
    assert service.retention_days == 30
    assert service.online is False and service.form is None


def test_specs_are_frozen() -> None:
    service = service_with("- {name: vorname, type: text, label: Vorname}")
    field = service.form.field("vorname")
    with pytest.raises(dataclasses.FrozenInstanceError):
        field.label = "anders"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        service.title = "anders"  # type: ignore[misc]


def test_field_defaults_per_type() -> None:
    service = service_with(
        """
        - {name: vorname, type: text, label: Vorname}
        - {name: newsletter, type: checkbox, label: Newsletter}
        - {name: mail, type: email, label: E-Mail}
        - {name: datei, type: file, label: Datei}
        - {name: betrag, type: decimal, label: Betrag}
        """
    )
    form = service.form
    assert form.field("vorname").required is True
    assert form.field("vorname").max_length == 250
    assert form.field("newsletter").required is False
    assert form.field("mail").autocomplete == "email"
    assert form.field("datei").accept == ("application/pdf", "image/jpeg", "image/png")
    assert form.field("datei").max_size == 10 * 1024 * 1024
    assert form.field("betrag").places == 2
    assert form.field("datenschutz").type is FieldType.CONSENT and form.field("datenschutz").required


def test_type_settings_are_typed() -> None:
    service = service_with(
        """
        - {name: anzahl, type: integer, label: Anzahl, min: 1, max: 5}
        - {name: preis, type: money, label: Preis, min: "0.50", max: 100}
        - {name: tag, type: date, label: Tag, min: today, max: +30d}
        - {name: geboren, type: date, label: Geboren, min: "1900-01-01", max: -18y}
        - {name: uhr, type: time, label: Uhr, min: "08:00", max: 18:30}
        - {name: datei, type: file, label: Datei, max_size: 2 MB, multiple: true, max_files: 4}
        """
    )
    form = service.form
    assert form.field("anzahl").min_value == Decimal(1)
    assert form.field("preis").min_value == Decimal("0.50")
    assert form.field("tag").max_date == DateBound.parse("+30d")
    assert form.field("geboren").min_date.fixed == dt.date(1900, 1, 1)
    assert form.field("uhr").min_time == dt.time(8, 0)
    assert form.field("uhr").max_time == dt.time(18, 30), "unquoted 18:30 is read as a time, not base 60"
    assert form.field("datei").max_size == 2 * 1024 * 1024
    assert form.field("datei").max_files == 4


def test_relative_date_bounds_resolve_against_today() -> None:
    today = dt.date(2024, 2, 29)
    assert DateBound.parse("today").resolve(today) == today
    assert DateBound.parse("+30d").resolve(today) == dt.date(2024, 3, 30)
    assert DateBound.parse("-2w").resolve(today) == dt.date(2024, 2, 15)
    assert DateBound.parse("-18y").resolve(today) == dt.date(2006, 2, 28), (
        "29 February falls back to the 28th"
    )
    assert DateBound.parse("+1m").resolve(dt.date(2026, 1, 31)) == dt.date(2026, 2, 28)
    with pytest.raises(ValueError):
        DateBound.parse("18 Jahre")
    with pytest.raises(ValueError):
        DateBound.parse("-9999y")


def test_conditions_are_parsed() -> None:
    service = service_with(
        """
        - name: art
          type: radio
          label: Art
          options: [{value: a, label: A}, {value: b, label: B}]
        - {name: mehr, type: checkbox, label: Mehr}
        - {name: x, type: text, label: X, show_if: {field: art, equals: a}}
        - {name: y, type: text, label: Y, show_if: {field: art, one_of: [a, b]}}
        - {name: z, type: text, label: Z, show_if: {field: mehr, is_true: true}}
        - {name: w, type: text, label: W, show_if: {field: mehr, is_false: true}}
        """
    )
    form = service.form
    assert form.field("x").show_if.operator is ConditionOperator.EQUALS
    assert form.field("y").show_if.values == ("a", "b")
    assert form.field("z").show_if.operator is ConditionOperator.IS_TRUE
    assert form.field("w").show_if.operator is ConditionOperator.IS_FALSE


def test_version_is_stable_and_changes_with_the_definition() -> None:
    text = """
        title: A
        short_text: B
        office_kind: hauptamt
        topic: C
        online: false
        """
    assert parse(text).version == parse(text).version
    assert parse(text).version != parse(text.replace("title: A", "title: A2")).version
    assert len(parse(text).version) == 64


def test_every_shipped_service_round_trips_through_its_stored_source() -> None:
    """A submission keeps service.source; from_source rebuilds the very same form version."""
    catalogue = load_catalogue(FORMS_DIR)
    services = [*catalogue.services.values(), *catalogue.for_commune("werneuchen").values()]
    for service in services:
        stored = json.loads(json.dumps(service.source))
        rebuilt = ServiceSpec.from_source(stored)
        assert rebuilt.version == service.version
        assert rebuilt.form == service.form
        assert rebuilt.fees == service.fees


def test_from_source_rejects_a_broken_source() -> None:
    with pytest.raises(InvalidSpec) as raised:
        ServiceSpec.from_source({"slug": "x", "title": "T"})
    assert {error.key for error in raised.value.errors} >= {"short_text", "office_kind", "topic"}


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(InvalidSpec) as raised:
        parse("title: A\nshort_text: [unclosed\noffice_kind: hauptamt\n")
    error = raised.value.errors[0]
    assert isinstance(error, YamlSyntaxError)
    assert error.line is not None and error.line >= 2
    assert "kein gültiges YAML" in error.message


def test_spec_error_str_is_file_line_key_message() -> None:
    with pytest.raises(InvalidSpec) as raised:
        parse("title: A\nshort_text: B\noffice_kind: rathaus\ntopic: C\nonline: false\n")
    assert str(raised.value.errors[0]).startswith("forms/catalogue/testdienst.yaml:3: office_kind: ")
