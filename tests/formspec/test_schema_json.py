"""forms/schema.json (the JSON Schema of the format) stays in step with the parser."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from app.formspec import FieldType, InvalidSpec, UnknownKeyError
from app.formspec.formatschema import format_schema, format_schema_text
from app.formspec.model import AUTOCOMPLETE_TOKENS, OFFICE_KINDS
from app.formspec.overrides import ADD_FIELDS_KEYS, CHANGE_FIELD_KEYS, OVERRIDE_KEYS
from app.formspec.parser import (
    CONDITION_KEYS,
    FEE_RULE_KEYS,
    FEES_KEYS,
    FIELD_COMMON_KEYS,
    FIELD_TYPE_KEYS,
    FIELDSET_KEYS,
    FORM_KEYS,
    OPTION_KEYS,
    SERVICE_KEYS,
    STEP_KEYS,
)

from .builders import FORMS_DIR, service_with

SCHEMA_FILE = FORMS_DIR / "schema.json"
DEFS = format_schema()["$defs"]


def test_committed_schema_is_current() -> None:
    """Regenerate with: flask --app wsgi forms schema"""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == format_schema_text()


def test_schema_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("definition", "keys"),
    [
        ("service", SERVICE_KEYS),
        ("override", OVERRIDE_KEYS),
        ("add_fields", ADD_FIELDS_KEYS),
        ("form", FORM_KEYS),
        ("step", STEP_KEYS),
        ("fieldset", FIELDSET_KEYS),
        ("field", FIELD_COMMON_KEYS.union(*FIELD_TYPE_KEYS.values())),
        ("option", OPTION_KEYS),
        ("condition", CONDITION_KEYS),
        ("fees", FEES_KEYS),
        ("fee_rule", FEE_RULE_KEYS),
    ],
)
def test_schema_keys_equal_parser_keys(definition: str, keys: frozenset[str]) -> None:
    assert set(DEFS[definition]["properties"]) == set(keys)


def test_schema_enums_equal_parser_vocabularies() -> None:
    assert DEFS["field"]["properties"]["type"]["enum"] == [kind.value for kind in FieldType]
    assert set(DEFS["field"]["properties"]["autocomplete"]["enum"]) == AUTOCOMPLETE_TOKENS
    assert DEFS["service"]["properties"]["office_kind"]["enum"] == list(OFFICE_KINDS)
    assert set(DEFS["override"]["properties"]["change_fields"]["additionalProperties"]["properties"]) == set(
        CHANGE_FIELD_KEYS
    )


@pytest.mark.parametrize("kind", list(FieldType))
def test_per_type_keys_in_schema_are_exactly_those_the_parser_accepts(kind: FieldType) -> None:
    rule = next(
        rule for rule in DEFS["field"]["allOf"] if rule["if"]["properties"]["type"]["const"] == kind.value
    )
    allowed = set(rule["then"]["propertyNames"]["enum"])
    assert allowed == FIELD_COMMON_KEYS | FIELD_TYPE_KEYS[kind]
    for key in sorted(set(DEFS["field"]["properties"]) - allowed):
        with pytest.raises(InvalidSpec) as raised:
            service_with(f"- {{name: x, type: {kind.value}, label: X, {key}: 1}}")
        assert any(isinstance(error, UnknownKeyError) and error.key == key for error in raised.value.errors)


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", sorted(FORMS_DIR.rglob("*.yaml")), ids=lambda path: path.name)
def test_every_shipped_definition_validates_against_the_schema(path: Path) -> None:
    errors = [
        error.message for error in _validator().iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))
    ]
    assert errors == []


def test_schema_flags_a_typo_like_the_parser() -> None:
    definition = {
        "title": "T",
        "short_text": "S",
        "office_kind": "hauptamt",
        "topic": "X",
        "titel": "Tippfehler",
    }
    assert not _validator().is_valid(definition)
    assert _validator().is_valid({k: v for k, v in definition.items() if k != "titel"})
