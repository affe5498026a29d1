"""The JSON Schema of the definition format itself (forms/schema.json), built from the parser's keys.

Editors (VS Code with the YAML extension, JetBrains IDEs) use it to autocomplete keys and
flag mistakes while a clerk types. It is generated from the same key sets the parser
accepts, so the two cannot drift apart; ``flask --app wsgi forms schema`` rewrites the file
and a test checks the committed file is current.
"""

from __future__ import annotations

import json
from typing import Any

from app.formspec.model import AUTOCOMPLETE_TOKENS, OFFICE_KINDS, ConditionOperator, FieldType
from app.formspec.overrides import CHANGE_FIELD_KEYS, OVERRIDE_KEYS
from app.formspec.parser import (
    CONDITION_KEYS,
    FIELD_COMMON_KEYS,
    FIELD_TYPE_KEYS,
    FORM_KEYS,
    SERVICE_KEYS,
)

SCHEMA_ID = "https://kommunalportal.example/forms/schema.json"

_TEXT = {"type": "string", "minLength": 1}
_TEXT_LIST = {"type": "array", "items": _TEXT}
_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
_SLUG = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"}
_AMOUNT = {
    "description": 'Betrag in Euro mit Punkt, am besten in Anführungszeichen: "12.50".',
    "anyOf": [{"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"}, {"type": "number", "minimum": 0}],
}
_DATE_BOUND = {
    "type": "string",
    "description": "Datum (2026-01-31), „today“ oder Verschiebung von heute: +30d, -2w, +6m, -18y.",
    "pattern": r"^(today|[+-][0-9]{1,5}[dwmy]|[0-9]{4}-[0-9]{2}-[0-9]{2})$",
}
_TIME = {
    "type": "string",
    "description": 'Uhrzeit als "SS:MM" in Anführungszeichen.',
    "pattern": r"^\d{2}:\d{2}$",
}
_NUMBER = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}]}

_SERVICE_PROPERTIES: dict[str, Any] = {
    "slug": {**_SLUG, "description": "Adresse des Dienstes; muss dem Dateinamen entsprechen (optional)."},
    "title": {**_TEXT, "description": "Name der Leistung, z. B. „Hund anmelden“."},
    "short_text": {**_TEXT, "description": "Ein Satz für Übersichten und Suchergebnisse."},
    "description": {"type": "string", "description": "Volltext (Markdown): was, wer, wie."},
    "audience": {"type": "string", "description": "Wer den Antrag stellen kann."},
    "required_documents": {**_TEXT_LIST, "description": "Erforderliche Unterlagen."},
    "fees": {"$ref": "#/$defs/fees"},
    "legal_basis": {**_TEXT_LIST, "description": "Rechtsgrundlagen, z. B. „§ 18 BMG“."},
    "processing_time": {"type": "string", "description": "Bearbeitungsdauer."},
    "office_kind": {"enum": list(OFFICE_KINDS), "description": "Zuständige Amtsart."},
    "leika_key": {
        "description": "LeiKa-Leistungsschlüssel (14 Ziffern, in Anführungszeichen); im Zweifel weglassen.",
        "type": "string",
        "pattern": r"^\d{14}$",
    },
    "topic": {**_TEXT, "description": "Themenbereich für die Gruppierung im Katalog."},
    "online": {"type": "boolean", "description": "false: reiner Informationsdienst ohne Formular."},
    "retention_days": {"type": "integer", "minimum": 1, "description": "Aufbewahrung der Anträge in Tagen."},
    "form": {"$ref": "#/$defs/form"},
}

_FIELD_PROPERTIES: dict[str, Any] = {
    "name": {**_NAME, "description": "Eindeutiger Feldname (Schlüssel der Antwort)."},
    "type": {"enum": [kind.value for kind in FieldType], "description": "Feldtyp."},
    "label": {**_TEXT, "description": "Beschriftung bzw. Frage."},
    "hint": {"type": "string", "description": "Hinweis unter der Beschriftung."},
    "required": {"type": "boolean", "description": "Pflichtfeld (Standard: true; checkbox: false)."},
    "show_if": {"$ref": "#/$defs/condition"},
    "autocomplete": {"enum": sorted(AUTOCOMPLETE_TOKENS), "description": "HTML-autocomplete-Wert."},
    "min_length": {"type": "integer", "minimum": 1},
    "max_length": {"type": "integer", "minimum": 1},
    "pattern": {"type": "string", "description": "Regulärer Ausdruck für die ganze Eingabe."},
    "pattern_message": {"type": "string", "description": "Fehlermeldung, wenn pattern nicht passt."},
    "rows": {"type": "integer", "minimum": 1},
    "min": {"anyOf": [_NUMBER, _DATE_BOUND, _TIME], "description": "Untergrenze (Zahl, Datum oder Uhrzeit)."},
    "max": {"anyOf": [_NUMBER, _DATE_BOUND, _TIME], "description": "Obergrenze (Zahl, Datum oder Uhrzeit)."},
    "places": {"type": "integer", "minimum": 0, "description": "Erlaubte Nachkommastellen (decimal)."},
    "options": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/option"}},
    "min_choices": {"type": "integer", "minimum": 1},
    "max_choices": {"type": "integer", "minimum": 1},
    "accept": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+/[a-z0-9.+*-]+$"}},
    "max_size": {
        "description": "Größte Datei: „5 MB“, „500 KB“ oder Bytes.",
        "anyOf": [
            {"type": "integer", "minimum": 1},
            {"type": "string", "pattern": r"^\d+([.,]\d+)?\s*(B|KB|kB|MB)?$"},
        ],
    },
    "multiple": {"type": "boolean", "description": "Mehrere Dateien erlauben."},
    "max_files": {"type": "integer", "minimum": 1},
    "text": {"type": "string", "description": "Hinweistext (Markdown) eines help-Feldes."},
}


def _closed(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


def _pick(source: dict[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    missing = keys - set(source)
    if missing:
        raise KeyError(f"no schema for keys {sorted(missing)}")
    return {key: source[key] for key in sorted(keys)}


def format_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a service definition file or a commune override."""
    field_keys = FIELD_COMMON_KEYS.union(*FIELD_TYPE_KEYS.values())
    per_type = [
        {
            "if": {"properties": {"type": {"const": kind.value}}, "required": ["type"]},
            "then": {"propertyNames": {"enum": sorted(FIELD_COMMON_KEYS | FIELD_TYPE_KEYS[kind])}},
        }
        for kind in FieldType
    ]
    operators = [operator.value for operator in ConditionOperator]
    condition_properties: dict[str, Any] = {
        "field": {**_NAME, "description": "Name eines früher gefragten Feldes."},
        "equals": {"type": "string", "description": "Optionswert, bei dem der Teil erscheint."},
        "one_of": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "is_true": {"const": True, "description": "Erscheint, wenn die Checkbox angekreuzt ist."},
        "is_false": {"const": True, "description": "Erscheint, wenn die Checkbox nicht angekreuzt ist."},
    }
    defs: dict[str, Any] = {
        "service": _closed(
            _pick(_SERVICE_PROPERTIES, SERVICE_KEYS), ["title", "short_text", "office_kind", "topic"]
        ),
        "override": _closed(
            {
                **_pick(_SERVICE_PROPERTIES, OVERRIDE_KEYS & SERVICE_KEYS),
                "extends": {**_SLUG, "description": "Slug des erweiterten Katalog-Dienstes."},
                "drop_fields": {"type": "array", "items": _NAME, "description": "Felder, die entfallen."},
                "change_fields": {
                    "type": "object",
                    "description": "Feldname → geänderte Texte.",
                    "additionalProperties": _closed(_pick(_FIELD_PROPERTIES, CHANGE_FIELD_KEYS)),
                },
                "add_fields": {"type": "array", "items": {"$ref": "#/$defs/add_fields"}},
            },
            ["extends"],
        ),
        "add_fields": _closed(
            {
                "step": {**_SLUG, "description": "Schritt, in den die Felder kommen."},
                "fieldset": {**_NAME, "description": "Feldgruppe, in die die Felder kommen."},
                "after": {**_NAME, "description": "Feld, nach dem eingefügt wird (sonst am Ende)."},
                "fields": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/field"}},
            },
            ["step", "fieldset", "fields"],
        ),
        "form": _closed(
            {"steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}}}, sorted(FORM_KEYS)
        ),
        "step": _closed(
            {
                "name": {**_SLUG, "description": "Name des Schritts (Teil der Adresse)."},
                "title": {**_TEXT, "description": "Überschrift der Seite."},
                "intro": {"type": "string", "description": "Einleitung (Markdown)."},
                "show_if": {"$ref": "#/$defs/condition"},
                "fieldsets": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/fieldset"}},
            },
            ["name", "title", "fieldsets"],
        ),
        "fieldset": _closed(
            {
                "name": _NAME,
                "legend": {"type": "string", "description": "Überschrift der Feldgruppe."},
                "show_if": {"$ref": "#/$defs/condition"},
                "fields": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/field"}},
            },
            ["name", "fields"],
        ),
        "field": _closed(_pick(_FIELD_PROPERTIES, field_keys), ["name", "type"], allOf=per_type),
        "option": _closed(
            {"value": {"type": ["string", "integer"]}, "label": _TEXT, "fee": _AMOUNT}, ["value", "label"]
        ),
        "condition": _closed(
            _pick(condition_properties, CONDITION_KEYS),
            ["field"],
            oneOf=[{"required": [operator]} for operator in operators],
        ),
        "fees": _closed(
            {
                "text": {"type": "string", "description": "Gebührentext für die Leistungsseite."},
                "rules": {"type": "array", "items": {"$ref": "#/$defs/fee_rule"}},
            }
        ),
        "fee_rule": _closed(
            {
                "label": _TEXT,
                "amount": _AMOUNT,
                "when": {"$ref": "#/$defs/condition"},
                "per": {**_NAME, "description": "Feld, dessen Anzahl den Betrag vervielfacht."},
            },
            ["label", "amount"],
        ),
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Kommunalportal: Leistungs- und Formulardefinition",
        "description": "forms/catalogue/<slug>.yaml (Dienst) oder forms/<gemeinde>/<slug>.yaml (Anpassung).",
        "if": {"required": ["extends"]},
        "then": {"$ref": "#/$defs/override"},
        "else": {"$ref": "#/$defs/service"},
        "$defs": defs,
    }


def format_schema_text() -> str:
    """forms/schema.json as it should be on disk."""
    return json.dumps(format_schema(), ensure_ascii=False, indent=2) + "\n"
