"""The JSON Schema (2020-12) of the answers a form produces."""

from __future__ import annotations

import jsonschema
import pytest

from app.formspec import ServiceSpec, data_schema, load_catalogue

from .builders import FORMS_DIR, service_with

FILE = {
    "filename": "a.pdf",
    "media_type": "application/pdf",
    "size": 10,
    "sha256": "a" * 64,
    "storage_key": "k",
}


@pytest.fixture(scope="module")
def service() -> ServiceSpec:
    return service_with(
        """
        - name: art
          type: radio
          label: Art
          options: [{value: privat, label: Privat}, {value: firma, label: Firma}]
        - {name: firma, type: text, label: Firma, show_if: {field: art, equals: firma}}
        - {name: anzahl, type: integer, label: Anzahl, min: 1, max: 3}
        - {name: betrag, type: money, label: Betrag, required: false}
        - {name: tag, type: date, label: Tag}
        - {name: eilig, type: checkbox, label: Eilig}
        - {name: nachweis, type: file, label: Nachweis, accept: [application/pdf, image/*], multiple: true}
        - {name: plz, type: postal_code, label: PLZ, required: false}
        - {name: anschrift, type: address, label: Anschrift}
        """
    )


def _validator(service: ServiceSpec) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(data_schema(service), format_checker=jsonschema.FormatChecker())


VALID = {
    "art": "privat",
    "anzahl": 2,
    "tag": "2026-01-31",
    "eilig": False,
    "nachweis": [FILE],
    "anschrift": {"street": "Am Markt", "house_number": "1", "postal_code": "16356", "town": "W"},
    "datenschutz": True,
}


def test_schema_is_valid_2020_12(service: ServiceSpec) -> None:
    schema = data_schema(service)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["x-form-version"] == service.version
    assert schema["properties"]["betrag"]["x-fim-datatype"] == "num_currency"


def test_a_valid_answer_set_validates(service: ServiceSpec) -> None:
    _validator(service).validate(VALID)
    _validator(service).validate(
        VALID | {"art": "firma", "firma": "F GmbH", "betrag": "12.50", "plz": "12345"}
    )


@pytest.mark.parametrize(
    "change",
    [
        {"art": "verein"},
        {"anzahl": 4},
        {"anzahl": "2"},
        {"betrag": "12,50"},
        {"tag": "31.01.2026"},
        {"plz": "1234"},
        {"datenschutz": False},
        {"nachweis": [FILE | {"media_type": "application/zip"}]},
        {"nachweis": []},
        {"unbekannt": 1},
        {"firma": "Hidden GmbH"},
        {"art": "firma"},
    ],
    ids=str,
)
def test_invalid_answer_sets_do_not_validate(service: ServiceSpec, change: dict[str, object]) -> None:
    assert not _validator(service).is_valid(VALID | change)


def test_missing_required_answers_do_not_validate(service: ServiceSpec) -> None:
    for name in ("art", "anzahl", "tag", "eilig", "nachweis", "anschrift", "datenschutz"):
        assert not _validator(service).is_valid(
            {key: value for key, value in VALID.items() if key != name}
        ), name


def test_wildcard_media_types_are_allowed(service: ServiceSpec) -> None:
    assert _validator(service).is_valid(VALID | {"nachweis": [FILE | {"media_type": "image/png"}]})


def test_information_only_service_has_an_empty_object_schema() -> None:
    service = load_catalogue(FORMS_DIR).get("e-rechnung")
    schema = data_schema(service)
    assert schema["properties"] == {} and schema["additionalProperties"] is False
