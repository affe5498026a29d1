"""The JSON Schema (2020-12) of the answers document a service's form produces.

It is what a specialised application or a FIT-Connect-style receiver validates against.
Conditional parts are expressed exactly: for each field under a show_if, an ``if``
(the conditions of its step, fieldset and own show_if) ``then`` requires it (when it is
required) and ``else`` forbids it, since hidden parts are never stored.
"""

from __future__ import annotations

import re
from typing import Any

from app.formspec.model import (
    BOOLEAN_TYPES,
    Condition,
    ConditionOperator,
    FieldSpec,
    FieldType,
    FormSpec,
    ServiceSpec,
)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_ADDRESS = {
    "type": "object",
    "properties": {
        "street": {"type": "string", "minLength": 1, "maxLength": 100, "title": "Straße"},
        "house_number": {"type": "string", "minLength": 1, "maxLength": 100, "title": "Hausnummer"},
        "postal_code": {"type": "string", "pattern": r"^[0-9]{5}$", "title": "Postleitzahl"},
        "town": {"type": "string", "minLength": 1, "maxLength": 100, "title": "Ort"},
    },
    "required": ["street", "house_number", "postal_code", "town"],
    "additionalProperties": False,
}


def _media_type_schema(accept: tuple[str, ...]) -> dict[str, Any]:
    exact = [media_type for media_type in accept if not media_type.endswith("/*")]
    if "text/csv" in exact:
        exact.append("text/plain")
    prefixes = [re.escape(media_type[:-1]) for media_type in accept if media_type.endswith("/*")]
    choices: list[dict[str, Any]] = []
    if exact:
        choices.append({"enum": sorted(set(exact))})
    if prefixes:
        choices.append({"type": "string", "pattern": f"^(?:{'|'.join(prefixes)})[A-Za-z0-9.+-]+$"})
    return choices[0] if len(choices) == 1 else {"anyOf": choices}


def _file_schema(spec: FieldSpec) -> dict[str, Any]:
    size: dict[str, Any] = {"type": "integer", "minimum": 1}
    if spec.max_size is not None:
        size["maximum"] = spec.max_size
    return {
        "type": "object",
        "properties": {
            "filename": {"type": "string"},
            "media_type": _media_type_schema(spec.accept),
            "size": size,
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "storage_key": {"type": "string", "minLength": 1},
        },
        "required": ["filename", "media_type", "size", "sha256", "storage_key"],
        "additionalProperties": False,
    }


def field_schema(spec: FieldSpec) -> dict[str, Any]:
    """The schema of one field's stored answer."""
    kind = spec.type
    schema: dict[str, Any]
    if kind in (FieldType.TEXT, FieldType.TEXTAREA, FieldType.EMAIL, FieldType.PHONE):
        schema = {"type": "string", "minLength": max(1, spec.min_length or 1)}
        if spec.max_length is not None:
            schema["maxLength"] = spec.max_length
        if kind is FieldType.TEXT and spec.pattern:
            schema["pattern"] = f"^(?:{spec.pattern})$"
        if kind is FieldType.EMAIL:
            schema["format"] = "email"
    elif kind is FieldType.INTEGER:
        schema = {"type": "integer"}
        if spec.min_value is not None:
            schema["minimum"] = int(spec.min_value)
        if spec.max_value is not None:
            schema["maximum"] = int(spec.max_value)
    elif kind is FieldType.DECIMAL:
        places = spec.places if spec.places is not None else 2
        fraction = rf"(\.[0-9]{{1,{places}}})?" if places else ""
        schema = {"type": "string", "pattern": rf"^-?[0-9]+{fraction}$"}
    elif kind is FieldType.MONEY:
        schema = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "x-currency": "EUR"}
    elif kind is FieldType.DATE:
        schema = {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
    elif kind is FieldType.TIME:
        schema = {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$"}
    elif kind in (FieldType.SELECT, FieldType.RADIO):
        schema = {"type": "string", "oneOf": [{"const": o.value, "title": o.label} for o in spec.options]}
    elif kind is FieldType.MULTICHECKBOX:
        schema = {
            "type": "array",
            "items": {
                "type": "string",
                "oneOf": [{"const": o.value, "title": o.label} for o in spec.options],
            },
            "uniqueItems": True,
            "minItems": max(1, spec.min_choices or 1),
        }
        if spec.max_choices is not None:
            schema["maxItems"] = spec.max_choices
    elif kind in BOOLEAN_TYPES:
        schema = {"const": True} if spec.required else {"type": "boolean"}
    elif kind is FieldType.FILE:
        schema = _file_schema(spec)
        if spec.multiple:
            schema = {"type": "array", "items": schema, "minItems": 1}
            if spec.max_files is not None:
                schema["maxItems"] = spec.max_files
    elif kind is FieldType.IBAN:
        schema = {"type": "string", "pattern": "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"}
    elif kind is FieldType.POSTAL_CODE:
        schema = {"type": "string", "pattern": r"^[0-9]{5}$"}
    else:
        schema = dict(_ADDRESS)
    schema["title"] = spec.label
    if spec.hint:
        schema["description"] = spec.hint
    if spec.fim_datatype:
        schema["x-fim-datatype"] = spec.fim_datatype
    return schema


def _condition_schema(condition: Condition, form: FormSpec) -> dict[str, Any]:
    """A schema that holds exactly when ``condition`` holds on stored (visible) answers."""
    target = form.field(condition.field)
    name = condition.field
    if condition.operator is ConditionOperator.IS_TRUE:
        return {"properties": {name: {"const": True}}, "required": [name]}
    if condition.operator is ConditionOperator.IS_FALSE:
        return {"not": {"properties": {name: {"const": True}}, "required": [name]}}
    values = list(condition.values)
    if target is not None and target.type is FieldType.MULTICHECKBOX:
        return {"properties": {name: {"contains": {"enum": values}}}, "required": [name]}
    return {"properties": {name: {"enum": values}}, "required": [name]}


def data_schema(service: ServiceSpec) -> dict[str, Any]:
    """JSON Schema 2020-12 that every stored answer set of this service validates against.

    The answers document is one flat object, field name → answer (see the package
    docstring). An information-only service has an empty object as its schema.
    """
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "title": service.title,
        "description": service.short_text,
        "type": "object",
        "properties": {},
        "additionalProperties": False,
        "x-form-version": service.version,
    }
    if service.form is None:
        return schema
    required: list[str] = []
    rules: list[dict[str, Any]] = []
    for step in service.form.steps:
        for fieldset in step.fieldsets:
            for spec in fieldset.fields:
                if not spec.takes_answer:
                    continue
                schema["properties"][spec.name] = field_schema(spec)
                always_stored = spec.required or spec.type in BOOLEAN_TYPES
                conditions = [c for c in (step.show_if, fieldset.show_if, spec.show_if) if c is not None]
                if not conditions:
                    if always_stored:
                        required.append(spec.name)
                    continue
                parts = [_condition_schema(condition, service.form) for condition in conditions]
                rule: dict[str, Any] = {
                    "if": parts[0] if len(parts) == 1 else {"allOf": parts},
                    "else": {"not": {"required": [spec.name]}},
                }
                if always_stored:
                    rule["then"] = {"required": [spec.name]}
                rules.append(rule)
    schema["required"] = required
    if rules:
        schema["allOf"] = rules
    return schema
