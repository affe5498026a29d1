"""A commune's override of a catalogue service: ``forms/<commune>/<service>.yaml`` with ``extends``.

The override is merged into a copy of the catalogue definition before it is validated, so
the merged service obeys every rule a catalogue service does. Nodes keep the file and line
they came from: a mistake in an added field is reported in the commune's file.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from app.formspec.errors import ExtendsError, SpecError
from app.formspec.parser import SERVICE_KEYS, _Builder, suggest
from app.formspec.yamlsource import LocatedDict, LocatedList, Location, location_of

#: Service keys an override may replace wholesale (the form is changed field by field).
REPLACEABLE_KEYS = SERVICE_KEYS - {"slug", "form", "online"}
OVERRIDE_KEYS = REPLACEABLE_KEYS | {"extends", "add_fields", "drop_fields", "change_fields"}
ADD_FIELDS_KEYS = frozenset({"step", "fieldset", "after", "fields"})
CHANGE_FIELD_KEYS = frozenset({"label", "hint", "required", "text", "pattern_message"})


def _insert(items: list[Any], index: int, value: Any, location: Location) -> None:
    items.insert(index, value)
    if isinstance(items, LocatedList):
        items.item_locations.insert(index, location)


def _remove(items: list[Any], index: int) -> None:
    del items[index]
    if isinstance(items, LocatedList) and index < len(items.item_locations):
        del items.item_locations[index]


def _set(mapping: dict[str, Any], key: str, value: Any, location: Location) -> None:
    mapping[key] = value
    if isinstance(mapping, LocatedDict):
        mapping.key_locations[key] = location


def _steps(merged: Mapping[str, Any]) -> list[Any]:
    form = merged.get("form")
    steps = form.get("steps") if isinstance(form, dict) else None
    return steps if isinstance(steps, list) else []


def _fieldsets(merged: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for step in _steps(merged):
        if isinstance(step, dict) and isinstance(step.get("fieldsets"), list):
            for fieldset in step["fieldsets"]:
                if isinstance(fieldset, dict):
                    yield step, fieldset


def _find_field(merged: Mapping[str, Any], name: str) -> tuple[list[Any], int] | None:
    for _, fieldset in _fieldsets(merged):
        fields = fieldset.get("fields")
        if isinstance(fields, list):
            for index, field in enumerate(fields):
                if isinstance(field, dict) and field.get("name") == name:
                    return fields, index
    return None


def _field_names(merged: Mapping[str, Any]) -> list[str]:
    return [
        field["name"]
        for _, fieldset in _fieldsets(merged)
        for field in fieldset.get("fields") or []
        if isinstance(field, dict) and isinstance(field.get("name"), str)
    ]


def _dependants(merged: Mapping[str, Any], name: str) -> list[str]:
    """What refers to field ``name`` (by show_if, fee condition or count)."""
    found: list[str] = []

    def refers(condition: Any) -> bool:
        return isinstance(condition, dict) and condition.get("field") == name

    for step in _steps(merged):
        if isinstance(step, dict) and refers(step.get("show_if")):
            found.append(f"Schritt „{step.get('name')}“")
    for _, fieldset in _fieldsets(merged):
        if refers(fieldset.get("show_if")):
            found.append(f"Feldgruppe „{fieldset.get('name')}“")
        for field in fieldset.get("fields") or []:
            if isinstance(field, dict) and refers(field.get("show_if")):
                found.append(f"Feld „{field.get('name')}“")
    fees = merged.get("fees")
    for rule in (fees.get("rules") or []) if isinstance(fees, dict) else []:
        if isinstance(rule, dict) and (refers(rule.get("when")) or rule.get("per") == name):
            found.append(f"Gebührenregel „{rule.get('label')}“")
    return found


def apply_override(
    base: dict[str, Any], override: Mapping[str, Any], file: str
) -> tuple[dict[str, Any] | None, list[SpecError]]:
    """The catalogue definition ``base`` with ``override`` applied, or None and the mistakes."""
    builder = _Builder(file)
    what = "Anpassung"
    builder.check_keys(override, OVERRIDE_KEYS, what)
    merged: dict[str, Any] = copy.deepcopy(base)  # type: ignore[arg-type]
    merged.pop("slug", None)
    for key in REPLACEABLE_KEYS & set(override):
        _set(merged, key, copy.deepcopy(override[key]), location_of(override, key, file))

    drop = builder.text_list(override, "drop_fields", what)
    for index, name in enumerate(drop):
        place = location_of(override["drop_fields"], index, file)
        found = _find_field(merged, name)
        if found is None:
            _report_unknown_field(builder, place, "drop_fields", name, merged)
            continue
        fields, position = found
        _remove(fields, position)
        dependants = _dependants(merged, name)
        if dependants:
            builder.report_at(
                ExtendsError,
                place,
                "drop_fields",
                f"{what}: das Feld „{name}“ kann nicht entfallen, weil {', '.join(dependants)} davon "
                "abhängt.",
            )

    if "change_fields" in override and override["change_fields"] is not None:
        changes = builder.mapping(override, "change_fields", "change_fields", what)
        for name in changes or {}:
            place = location_of(changes, name, file)
            found = _find_field(merged, name)
            change = builder.mapping(changes, name, "change_fields", f"{what}, Feld „{name}“")
            if found is None:
                _report_unknown_field(builder, place, "change_fields", name, merged)
                continue
            if change is None:
                continue
            builder.check_keys(change, CHANGE_FIELD_KEYS, f"{what}, Feld „{name}“")
            fields, position = found
            field = fields[position]
            for key in CHANGE_FIELD_KEYS & set(change):
                _set(field, key, copy.deepcopy(change[key]), location_of(change, key, file))

    if "add_fields" in override and override["add_fields"] is not None:
        additions = builder.sequence(override, "add_fields", what) or []
        for index, _ in enumerate(additions):
            addition = builder.mapping(additions, index, "add_fields", f"{what}, add_fields {index + 1}")
            if addition is not None:
                _add_fields(builder, merged, addition, f"{what}, add_fields {index + 1}")
    if builder.errors:
        return None, builder.errors
    return merged, []


def _report_unknown_field(
    builder: _Builder, place: Location, key: str, name: str, merged: Mapping[str, Any]
) -> None:
    guess = suggest(name, _field_names(merged))
    hint = f" – meinten Sie „{guess}“?" if guess else ""
    builder.report_at(
        ExtendsError, place, key, f"Anpassung: der erweiterte Dienst hat kein Feld „{name}“{hint}"
    )


def _add_fields(builder: _Builder, merged: dict[str, Any], addition: Mapping[str, Any], what: str) -> None:
    builder.check_keys(addition, ADD_FIELDS_KEYS, what)
    step_name = builder.text(addition, "step", what, required=True)
    fieldset_name = builder.text(addition, "fieldset", what, required=True)
    after = builder.text(addition, "after", what)
    new_fields = (
        builder.sequence(addition, "fields", what) if builder.require(addition, "fields", what) else None
    )
    if step_name is None or fieldset_name is None or new_fields is None:
        return
    steps = [step for step in _steps(merged) if isinstance(step, dict)]
    step = next((candidate for candidate in steps if candidate.get("name") == step_name), None)
    if step is None:
        guess = suggest(step_name, [str(candidate.get("name")) for candidate in steps])
        hint = f" – meinten Sie „{guess}“?" if guess else ""
        builder.report(
            ExtendsError,
            addition,
            "step",
            "step",
            f"{what}: der Dienst hat keinen Schritt „{step_name}“{hint}",
        )
        return
    fieldsets = [fieldset for fieldset in step.get("fieldsets") or [] if isinstance(fieldset, dict)]
    fieldset = next((candidate for candidate in fieldsets if candidate.get("name") == fieldset_name), None)
    if fieldset is None:
        guess = suggest(fieldset_name, [str(candidate.get("name")) for candidate in fieldsets])
        hint = f" – meinten Sie „{guess}“?" if guess else ""
        builder.report(
            ExtendsError,
            addition,
            "fieldset",
            "fieldset",
            f"{what}: der Schritt „{step_name}“ hat keine Feldgruppe „{fieldset_name}“{hint}",
        )
        return
    fields = fieldset.get("fields")
    if not isinstance(fields, list):
        return
    position = len(fields)
    if after is not None:
        names = [field.get("name") for field in fields if isinstance(field, dict)]
        if after not in names:
            guess = suggest(after, [str(name) for name in names])
            hint = f" – meinten Sie „{guess}“?" if guess else ""
            builder.report(
                ExtendsError,
                addition,
                "after",
                "after",
                f"{what}: die Feldgruppe „{fieldset_name}“ hat kein Feld „{after}“{hint}",
            )
            return
        position = names.index(after) + 1
    for offset, field in enumerate(new_fields):
        _insert(
            fields, position + offset, copy.deepcopy(field), location_of(new_fields, offset, builder.file)
        )
