"""Validating a definition (read from YAML, or a stored source) into a ServiceSpec.

Every mistake is collected, not just the first, with the file and line it was written at,
and worded for the clerk who edits the file. The accepted keys are declared once, here;
forms/schema.json is kept in step with them by a test.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import filetype

from app.formspec.errors import (
    ConditionError,
    DuplicateNameError,
    FeeRuleError,
    InvalidSpec,
    InvalidValueError,
    MissingKeyError,
    PatternError,
    SpecError,
    UnknownKeyError,
    WrongTypeError,
)
from app.formspec.model import (
    AUTOCOMPLETE_TOKENS,
    BOOLEAN_TYPES,
    CHOICE_TYPES,
    OFFICE_KINDS,
    Condition,
    ConditionOperator,
    DateBound,
    FeeRule,
    FeeSpec,
    FieldsetSpec,
    FieldSpec,
    FieldType,
    FormSpec,
    Option,
    ServiceSpec,
    StepSpec,
)
from app.formspec.uploads import TEXT_MEDIA_TYPES
from app.formspec.yamlsource import Location, location_of, to_plain

# The format, key by key. forms/schema.json mirrors these (tests/formspec/test_schema_json.py).
SERVICE_KEYS = frozenset(
    {
        "slug",
        "title",
        "short_text",
        "description",
        "audience",
        "required_documents",
        "fees",
        "legal_basis",
        "processing_time",
        "office_kind",
        "leika_key",
        "topic",
        "online",
        "retention_days",
        "form",
    }
)
FORM_KEYS = frozenset({"steps"})
STEP_KEYS = frozenset({"name", "title", "intro", "show_if", "fieldsets"})
FIELDSET_KEYS = frozenset({"name", "legend", "show_if", "fields"})
FIELD_COMMON_KEYS = frozenset({"name", "type", "label", "hint", "required", "show_if"})
FIELD_TYPE_KEYS: Mapping[FieldType, frozenset[str]] = {
    FieldType.TEXT: frozenset({"min_length", "max_length", "pattern", "pattern_message", "autocomplete"}),
    FieldType.TEXTAREA: frozenset({"min_length", "max_length", "rows"}),
    FieldType.EMAIL: frozenset({"max_length", "autocomplete"}),
    FieldType.PHONE: frozenset({"autocomplete"}),
    FieldType.INTEGER: frozenset({"min", "max"}),
    FieldType.DECIMAL: frozenset({"min", "max", "places"}),
    FieldType.MONEY: frozenset({"min", "max"}),
    FieldType.DATE: frozenset({"min", "max", "autocomplete"}),
    FieldType.TIME: frozenset({"min", "max"}),
    FieldType.SELECT: frozenset({"options"}),
    FieldType.RADIO: frozenset({"options"}),
    FieldType.CHECKBOX: frozenset(),
    FieldType.MULTICHECKBOX: frozenset({"options", "min_choices", "max_choices"}),
    FieldType.FILE: frozenset({"accept", "max_size", "multiple", "max_files"}),
    FieldType.IBAN: frozenset(),
    FieldType.POSTAL_CODE: frozenset(),
    FieldType.ADDRESS: frozenset(),
    FieldType.HELP: frozenset({"text"}),
    FieldType.CONSENT: frozenset(),
}
OPTION_KEYS = frozenset({"value", "label", "fee"})
CONDITION_KEYS = frozenset({"field", *(operator.value for operator in ConditionOperator)})
FEES_KEYS = frozenset({"text", "rules"})
FEE_RULE_KEYS = frozenset({"label", "amount", "when", "per"})

#: Names a field may not have: they are attributes of the compiled WTForms class.
RESERVED_FIELD_NAMES = frozenset(
    {
        "data",
        "errors",
        "meta",
        "process",
        "validate",
        "populate_obj",
        "form_errors",
        "field_specs",
        "layout",
        "condition_of",
        "answers",
        "today",
        "gettext",
        "service",
        "step",
    }
)

DEFAULT_MAX_LENGTH: Mapping[FieldType, int] = {
    FieldType.TEXT: 250,
    FieldType.TEXTAREA: 5000,
    FieldType.EMAIL: 254,
    FieldType.PHONE: 30,
}
DEFAULT_AUTOCOMPLETE: Mapping[FieldType, str] = {
    FieldType.EMAIL: "email",
    FieldType.PHONE: "tel",
    FieldType.POSTAL_CODE: "postal-code",
}
DEFAULT_ACCEPT = ("application/pdf", "image/jpeg", "image/png")
DEFAULT_MAX_SIZE = 10 * 1024 * 1024
DEFAULT_MAX_FILES = 10

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_LEIKA = re.compile(r"^[0-9]{14}$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_SIZE = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*(B|KB|MB|kB)?\s*$")
_SIZE_UNITS = {None: 1, "B": 1, "KB": 1024, "kB": 1024, "MB": 1024 * 1024}

KNOWN_MEDIA_TYPES = frozenset({kind.mime for kind in filetype.types} | TEXT_MEDIA_TYPES)


def describe(value: Any) -> str:
    """What a value is, in the words the messages use."""
    if value is None:
        return "nichts (leerer Wert)"
    if isinstance(value, bool):
        return (
            f"der Wahrheitswert {'true' if value else 'false'} – YAML liest ja/nein/yes/no/on/off/true/false "
            "so; als Text bitte in Anführungszeichen setzen"
        )
    if isinstance(value, int | float):
        return f"die Zahl {value}"
    if isinstance(value, str):
        return f"der Text „{value}“"
    if isinstance(value, list):
        return "eine Liste"
    if isinstance(value, dict):
        return "ein Abschnitt mit Unterschlüsseln"
    return type(value).__name__


def suggest(word: str, choices: Any) -> str | None:
    """The closest of ``choices`` to a mistyped ``word``, if one is close."""
    matches = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def canonical_version(source: Mapping[str, Any]) -> str:
    """The form version: SHA-256 of the canonical JSON of a source."""
    canonical = json.dumps(source, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Builder:
    """Reads one definition, collecting every mistake with its location."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[SpecError] = []

    # -- reporting ---------------------------------------------------------------

    def report(self, kind: type[SpecError], container: Any, key: str | int, name: str, message: str) -> None:
        location = location_of(container, key, self.file)
        self.errors.append(kind(location.file, location.line, name, message))

    def report_at(self, kind: type[SpecError], location: Location, name: str, message: str) -> None:
        self.errors.append(kind(location.file, location.line, name, message))

    # -- typed access ------------------------------------------------------------

    def check_keys(
        self,
        mapping: Mapping[str, Any],
        allowed: frozenset[str],
        what: str,
        skip: frozenset[str] = frozenset(),
    ) -> None:
        for key in mapping:
            if key in allowed or key in skip:
                continue
            guess = suggest(key, allowed)
            hint = f" – meinten Sie „{guess}“?" if guess else f" Erlaubt sind: {', '.join(sorted(allowed))}."
            self.report(UnknownKeyError, mapping, key, key, f"{what}: unbekannter Schlüssel „{key}“{hint}")

    def mapping(self, container: Any, key: str | int, name: str, what: str) -> Mapping[str, Any] | None:
        value = container[key]
        if isinstance(value, dict):
            return value
        self.report(
            WrongTypeError,
            container,
            key,
            name,
            f"{what}: hier gehört ein Abschnitt mit Unterschlüsseln (key: value) hin, gefunden wurde "
            f"{describe(value)}.",
        )
        return None

    def sequence(self, mapping: Mapping[str, Any], key: str, what: str) -> list[Any] | None:
        value = mapping[key]
        if isinstance(value, list):
            return value
        self.report(
            WrongTypeError,
            mapping,
            key,
            key,
            f"{what}: „{key}“ muss eine Liste sein (Einträge mit „- “ beginnen), gefunden wurde "
            f"{describe(value)}.",
        )
        return None

    def require(self, mapping: Mapping[str, Any], key: str, what: str) -> bool:
        if key in mapping and mapping[key] is not None:
            return True
        self.report(MissingKeyError, mapping, key, key, f"{what}: der Pflichtschlüssel „{key}“ fehlt.")
        return False

    def text(self, mapping: Mapping[str, Any], key: str, what: str, *, required: bool = False) -> str | None:
        if key not in mapping or mapping[key] is None:
            if required:
                self.require(mapping, key, what)
            return None
        value = mapping[key]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and (value.strip() or not required):
            return value.strip() or None
        if isinstance(value, str):
            self.report(InvalidValueError, mapping, key, key, f"{what}: „{key}“ darf nicht leer sein.")
            return None
        self.report(
            WrongTypeError,
            mapping,
            key,
            key,
            f"{what}: „{key}“ muss ein Text sein, gefunden wurde {describe(value)}.",
        )
        return None

    def text_list(self, mapping: Mapping[str, Any], key: str, what: str) -> tuple[str, ...]:
        if key not in mapping or mapping[key] is None:
            return ()
        items = self.sequence(mapping, key, what)
        if items is None:
            return ()
        result = []
        for index, item in enumerate(items):
            if isinstance(item, str) and item.strip():
                result.append(item.strip())
            else:
                self.report(
                    WrongTypeError,
                    items,
                    index,
                    key,
                    f"{what}: jeder Eintrag in „{key}“ muss ein Text sein, gefunden wurde {describe(item)}.",
                )
        return tuple(result)

    def boolean(self, mapping: Mapping[str, Any], key: str, what: str, default: bool) -> bool:
        if key not in mapping or mapping[key] is None:
            return default
        value = mapping[key]
        if isinstance(value, bool):
            return value
        self.report(
            WrongTypeError,
            mapping,
            key,
            key,
            f"{what}: „{key}“ muss true oder false sein, gefunden wurde {describe(value)}.",
        )
        return default

    def integer(self, mapping: Mapping[str, Any], key: str, what: str, minimum: int = 0) -> int | None:
        if key not in mapping or mapping[key] is None:
            return None
        value = mapping[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.report(
                WrongTypeError,
                mapping,
                key,
                key,
                f"{what}: „{key}“ muss eine ganze Zahl sein, gefunden wurde {describe(value)}.",
            )
            return None
        if value < minimum:
            self.report(
                InvalidValueError,
                mapping,
                key,
                key,
                f"{what}: „{key}“ muss mindestens {minimum} sein, nicht {value}.",
            )
            return None
        return value

    def decimal(
        self, mapping: Mapping[str, Any], key: str, what: str, places: int | None = None
    ) -> Decimal | None:
        if key not in mapping or mapping[key] is None:
            return None
        value = mapping[key]
        number: Decimal | None = None
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                number = None
        if number is None or not number.is_finite():
            self.report(
                WrongTypeError,
                mapping,
                key,
                key,
                f"{what}: „{key}“ muss eine Zahl sein (mit Punkt als Dezimalzeichen, z. B. 12.50), "
                f"gefunden wurde {describe(value)}.",
            )
            return None
        exponent = number.as_tuple().exponent
        if places is not None and isinstance(exponent, int) and -exponent > places:
            self.report(
                InvalidValueError,
                mapping,
                key,
                key,
                f"{what}: „{key}“ hat mehr als {places} Nachkommastellen ({value}).",
            )
            return None
        return number

    def amount(self, mapping: Mapping[str, Any], key: str, what: str) -> Decimal | None:
        number = self.decimal(mapping, key, what, places=2)
        if number is not None and number < 0:
            self.report(InvalidValueError, mapping, key, key, f"{what}: ein Betrag darf nicht negativ sein.")
            return None
        return None if number is None else number.quantize(Decimal("0.01"))

    def name(
        self, mapping: Mapping[str, Any], key: str, what: str, pattern: re.Pattern[str], rule: str
    ) -> str | None:
        value = self.text(mapping, key, what, required=True)
        if value is None:
            return None
        if not pattern.match(value):
            self.report(
                InvalidValueError, mapping, key, key, f"{what}: der Name „{value}“ ist ungültig: {rule}."
            )
            return None
        return value

    # -- parts -------------------------------------------------------------------

    def condition(self, container: Mapping[str, Any], key: str, what: str) -> Condition | None:
        if key not in container or container[key] is None:
            return None
        mapping = self.mapping(container, key, key, what)
        if mapping is None:
            return None
        where = f"{what}, {key}"
        self.check_keys(mapping, CONDITION_KEYS, where)
        field = self.text(mapping, "field", where, required=True)
        operators = [operator for operator in ConditionOperator if operator.value in mapping]
        if len(operators) != 1:
            self.report(
                ConditionError,
                container,
                key,
                key,
                f"{where}: genau eine Prüfung angeben – equals, one_of, is_true oder is_false "
                f"(gefunden: {', '.join(o.value for o in operators) or 'keine'}).",
            )
            return None
        operator = operators[0]
        values: tuple[str, ...] = ()
        raw = mapping[operator.value]
        if operator is ConditionOperator.EQUALS:
            value = self.text(mapping, operator.value, where, required=True)
            if value is None:
                return None
            values = (value,)
        elif operator is ConditionOperator.ONE_OF:
            values = self.text_list(mapping, operator.value, where)
            if not values:
                self.report(
                    ConditionError,
                    mapping,
                    operator.value,
                    operator.value,
                    f"{where}: „one_of“ braucht eine Liste von mindestens einem Optionswert.",
                )
                return None
        elif raw is not True:
            opposite = "is_false" if operator is ConditionOperator.IS_TRUE else "is_true"
            self.report(
                ConditionError,
                mapping,
                operator.value,
                operator.value,
                f"{where}: „{operator.value}“ wird als „{operator.value}: true“ geschrieben "
                f"(für das Gegenteil „{opposite}: true“).",
            )
            return None
        if field is None:
            return None
        return Condition(field=field, operator=operator, values=values)

    def options(self, mapping: Mapping[str, Any], what: str) -> tuple[Option, ...]:
        if not self.require(mapping, "options", what):
            return ()
        items = self.sequence(mapping, "options", what)
        if items is None:
            return ()
        if not items:
            self.report(
                InvalidValueError, mapping, "options", "options", f"{what}: die Liste der Optionen ist leer."
            )
        options: list[Option] = []
        seen: dict[str, int | None] = {}
        for index in range(len(items)):
            entry = self.mapping(items, index, "options", f"{what}, Option {index + 1}")
            if entry is None:
                continue
            where = f"{what}, Option {index + 1}"
            self.check_keys(entry, OPTION_KEYS, where)
            value = self.text(entry, "value", where, required=True)
            label = self.text(entry, "label", where, required=True)
            fee = self.amount(entry, "fee", where)
            if value is None or label is None:
                continue
            if value in seen:
                self.report(
                    DuplicateNameError,
                    entry,
                    "value",
                    "value",
                    f"{what}: der Optionswert „{value}“ kommt doppelt vor (zuerst in Zeile {seen[value]}).",
                )
                continue
            seen[value] = location_of(entry, "value", self.file).line
            options.append(Option(value=value, label=label, fee=fee))
        return tuple(options)

    def field(self, mapping: Mapping[str, Any]) -> FieldSpec | None:
        name = self.name(
            mapping,
            "name",
            "Feld",
            _NAME,
            "erlaubt sind Kleinbuchstaben, Ziffern und _, am Anfang ein Buchstabe (z. B. geburtsdatum)",
        )
        what = f"Feld „{name}“" if name else "Feld"
        if name in RESERVED_FIELD_NAMES:
            self.report(
                InvalidValueError,
                mapping,
                "name",
                "name",
                f"{what}: „{name}“ ist als Feldname reserviert; bitte einen anderen Namen wählen.",
            )
            name = None
        type_text = self.text(mapping, "type", what, required=True)
        if type_text is None:
            return None
        try:
            kind = FieldType(type_text)
        except ValueError:
            guess = suggest(type_text, [t.value for t in FieldType])
            hint = (
                f" – meinten Sie „{guess}“?"
                if guess
                else f" Möglich sind: {', '.join(t.value for t in FieldType)}."
            )
            self.report(
                InvalidValueError, mapping, "type", "type", f"{what}: unbekannter Feldtyp „{type_text}“{hint}"
            )
            return None
        allowed = FIELD_COMMON_KEYS | FIELD_TYPE_KEYS[kind]
        for key in mapping:
            if key not in allowed and any(key in keys for keys in FIELD_TYPE_KEYS.values()):
                owners = sorted(t.value for t, keys in FIELD_TYPE_KEYS.items() if key in keys)
                self.report(
                    UnknownKeyError,
                    mapping,
                    key,
                    key,
                    f"{what}: „{key}“ gibt es bei Feldern vom Typ „{kind.value}“ nicht, nur bei: "
                    f"{', '.join(owners)}.",
                )
        self.check_keys(mapping, allowed, what, skip=_ALL_FIELD_KEYS)
        label = self.text(mapping, "label", what, required=kind is not FieldType.HELP) or ""
        required_default = kind not in (FieldType.CHECKBOX, FieldType.HELP)
        required = self.boolean(mapping, "required", what, required_default)
        if kind is FieldType.CONSENT and not required:
            self.report(
                InvalidValueError,
                mapping,
                "required",
                "required",
                f"{what}: eine Einwilligung ist immer Pflicht; „required: false“ bitte entfernen.",
            )
        if kind is FieldType.HELP and "required" in mapping:
            self.report(
                InvalidValueError,
                mapping,
                "required",
                "required",
                f"{what}: ein Hinweistext (help) nimmt keine Eingabe an; „required“ bitte entfernen.",
            )
        values: dict[str, Any] = {
            "hint": self.text(mapping, "hint", what),
            "show_if": self.condition(mapping, "show_if", what),
            "autocomplete": self.autocomplete(mapping, kind, what),
        }
        values.update(self.type_settings(mapping, kind, what))
        if name is None:
            return None
        return FieldSpec(
            name=name, type=kind, label=label, required=required or kind is FieldType.CONSENT, **values
        )

    def autocomplete(self, mapping: Mapping[str, Any], kind: FieldType, what: str) -> str | None:
        value = self.text(mapping, "autocomplete", what)
        if value is None:
            return DEFAULT_AUTOCOMPLETE.get(kind)
        if value not in AUTOCOMPLETE_TOKENS:
            guess = suggest(value, AUTOCOMPLETE_TOKENS)
            hint = f" – meinten Sie „{guess}“?" if guess else ""
            self.report(
                InvalidValueError,
                mapping,
                "autocomplete",
                "autocomplete",
                f"{what}: „{value}“ ist kein HTML-autocomplete-Wert{hint}",
            )
            return None
        return value

    def type_settings(self, mapping: Mapping[str, Any], kind: FieldType, what: str) -> dict[str, Any]:
        settings: dict[str, Any] = {}
        if kind in (FieldType.TEXT, FieldType.TEXTAREA, FieldType.EMAIL, FieldType.PHONE):
            settings["min_length"] = self.integer(mapping, "min_length", what, minimum=1)
            settings["max_length"] = (
                self.integer(mapping, "max_length", what, minimum=1) or DEFAULT_MAX_LENGTH[kind]
            )
            if settings["min_length"] and settings["min_length"] > settings["max_length"]:
                self.report(
                    InvalidValueError,
                    mapping,
                    "min_length",
                    "min_length",
                    f"{what}: „min_length“ ({settings['min_length']}) ist größer als „max_length“ "
                    f"({settings['max_length']}); so kann niemand das Feld ausfüllen.",
                )
        if kind is FieldType.TEXT:
            settings["pattern"] = self.pattern(mapping, what)
            settings["pattern_message"] = self.text(mapping, "pattern_message", what)
        if kind is FieldType.TEXTAREA:
            settings["rows"] = self.integer(mapping, "rows", what, minimum=1) or 5
        if kind in (FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY):
            settings.update(self.number_range(mapping, kind, what))
        if kind is FieldType.DATE:
            settings["min_date"] = self.date_bound(mapping, "min", what)
            settings["max_date"] = self.date_bound(mapping, "max", what)
            low, high = settings["min_date"], settings["max_date"]
            if low and high and low.fixed and high.fixed and low.fixed > high.fixed:
                self.report(InvalidValueError, mapping, "min", "min", f"{what}: „min“ liegt nach „max“.")
        if kind is FieldType.TIME:
            settings["min_time"] = self.time(mapping, "min", what)
            settings["max_time"] = self.time(mapping, "max", what)
            if settings["min_time"] and settings["max_time"] and settings["min_time"] > settings["max_time"]:
                self.report(InvalidValueError, mapping, "min", "min", f"{what}: „min“ liegt nach „max“.")
        if kind in CHOICE_TYPES:
            settings["options"] = self.options(mapping, what)
        if kind is FieldType.MULTICHECKBOX:
            settings["min_choices"] = self.integer(mapping, "min_choices", what, minimum=1)
            settings["max_choices"] = self.integer(mapping, "max_choices", what, minimum=1)
            low, high = settings["min_choices"], settings["max_choices"]
            if low and high and low > high:
                self.report(
                    InvalidValueError,
                    mapping,
                    "min_choices",
                    "min_choices",
                    f"{what}: „min_choices“ > „max_choices“.",
                )
        if kind is FieldType.FILE:
            settings.update(self.file_settings(mapping, what))
        if kind is FieldType.HELP:
            settings["text"] = self.text(mapping, "text", what, required=True)
        return settings

    def pattern(self, mapping: Mapping[str, Any], what: str) -> str | None:
        value = self.text(mapping, "pattern", what)
        if value is None:
            return None
        try:
            re.compile(value)
        except re.error as error:
            self.report(
                PatternError,
                mapping,
                "pattern",
                "pattern",
                f"{what}: der reguläre Ausdruck „{value}“ ist ungültig ({error}). Tipp: den Ausdruck in "
                "einfache Anführungszeichen setzen, damit YAML Backslashes nicht verändert.",
            )
            return None
        return value

    def number_range(self, mapping: Mapping[str, Any], kind: FieldType, what: str) -> dict[str, Any]:
        settings: dict[str, Any] = {}
        if kind is FieldType.INTEGER:
            low = self.integer(mapping, "min", what, minimum=-(10**12))
            high = self.integer(mapping, "max", what, minimum=-(10**12))
            settings["min_value"] = None if low is None else Decimal(low)
            settings["max_value"] = None if high is None else Decimal(high)
        else:
            places = 2
            if kind is FieldType.DECIMAL:
                declared = self.integer(mapping, "places", what, minimum=0)
                places = 2 if declared is None else declared
            settings["places"] = places
            settings["min_value"] = self.decimal(mapping, "min", what, places)
            settings["max_value"] = self.decimal(mapping, "max", what, places)
        low, high = settings["min_value"], settings["max_value"]
        if low is not None and high is not None and low > high:
            self.report(
                InvalidValueError,
                mapping,
                "min",
                "min",
                f"{what}: „min“ ({low}) ist größer als „max“ ({high}).",
            )
        return settings

    def date_bound(self, mapping: Mapping[str, Any], key: str, what: str) -> DateBound | None:
        value = self.text(mapping, key, what)
        if value is None:
            return None
        try:
            return DateBound.parse(value)
        except ValueError:
            self.report(
                InvalidValueError,
                mapping,
                key,
                key,
                f"{what}: „{key}: {value}“ ist kein gültiges Datum. Möglich sind ein Datum wie 2026-01-31, "
                "„today“ (heute) oder eine Verschiebung von heute wie „+30d“, „-2w“, „+6m“, „-18y“.",
            )
            return None

    def time(self, mapping: Mapping[str, Any], key: str, what: str) -> dt.time | None:
        value = self.text(mapping, key, what)
        if value is None:
            return None
        match = _TIME.match(value)
        if not match:
            self.report(
                InvalidValueError,
                mapping,
                key,
                key,
                f'{what}: „{key}: {value}“ ist keine Uhrzeit; bitte als SS:MM schreiben, z. B. "08:00".',
            )
            return None
        return dt.time(int(match.group(1)), int(match.group(2)))

    def file_settings(self, mapping: Mapping[str, Any], what: str) -> dict[str, Any]:
        accept = self.text_list(mapping, "accept", what) or DEFAULT_ACCEPT
        for index, media_type in enumerate(accept):
            known = media_type in KNOWN_MEDIA_TYPES or (
                media_type.endswith("/*") and any(m.startswith(media_type[:-1]) for m in KNOWN_MEDIA_TYPES)
            )
            if not known:
                guess = suggest(media_type, KNOWN_MEDIA_TYPES)
                hint = f" – meinten Sie „{guess}“?" if guess else ""
                self.report(
                    InvalidValueError,
                    mapping.get("accept", mapping),
                    index,
                    "accept",
                    f"{what}: „{media_type}“ ist kein Dateityp, den das Portal am Inhalt erkennt{hint}",
                )
        max_size = self.size(mapping, what)
        multiple = self.boolean(mapping, "multiple", what, False)
        max_files = self.integer(mapping, "max_files", what, minimum=1)
        if max_files is not None and not multiple:
            self.report(
                InvalidValueError,
                mapping,
                "max_files",
                "max_files",
                f"{what}: „max_files“ gilt nur zusammen mit „multiple: true“.",
            )
        return {
            "accept": tuple(accept),
            "max_size": max_size,
            "multiple": multiple,
            "max_files": (max_files or DEFAULT_MAX_FILES) if multiple else None,
        }

    def size(self, mapping: Mapping[str, Any], what: str) -> int:
        if "max_size" not in mapping or mapping["max_size"] is None:
            return DEFAULT_MAX_SIZE
        value = mapping["max_size"]
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        match = _SIZE.match(value) if isinstance(value, str) else None
        if match is None or float(match.group(1).replace(",", ".")) <= 0:
            self.report(
                InvalidValueError,
                mapping,
                "max_size",
                "max_size",
                f"{what}: „max_size“ muss eine Größe wie „5 MB“, „500 KB“ oder eine Zahl in Bytes sein, "
                f"gefunden wurde {describe(value)}.",
            )
            return DEFAULT_MAX_SIZE
        return int(float(match.group(1).replace(",", ".")) * _SIZE_UNITS[match.group(2)])

    def fees(self, service: Mapping[str, Any]) -> FeeSpec | None:
        if "fees" not in service or service["fees"] is None:
            return None
        what = "Gebühren"
        mapping = self.mapping(service, "fees", "fees", what)
        if mapping is None:
            return None
        self.check_keys(mapping, FEES_KEYS, what)
        rules: list[FeeRule] = []
        items = (
            self.sequence(mapping, "rules", what)
            if "rules" in mapping and mapping["rules"] is not None
            else []
        )
        for index in range(len(items or [])):
            where = f"Gebührenregel {index + 1}"
            entry = self.mapping(items, index, "rules", where)
            if entry is None:
                continue
            self.check_keys(entry, FEE_RULE_KEYS, where)
            label = self.text(entry, "label", where, required=True)
            amount = self.amount(entry, "amount", where) if self.require(entry, "amount", where) else None
            when = self.condition(entry, "when", where)
            per = self.text(entry, "per", where)
            if label is not None and amount is not None:
                rules.append(FeeRule(label=label, amount=amount, when=when, per=per))
        return FeeSpec(text=self.text(mapping, "text", what), rules=tuple(rules))


_ALL_FIELD_KEYS = FIELD_COMMON_KEYS.union(*FIELD_TYPE_KEYS.values())


class _Placed:
    """A parsed part with where it was written and its position in document order."""

    def __init__(self, spec: Any, mapping: Mapping[str, Any], position: int, what: str) -> None:
        self.spec = spec
        self.mapping = mapping
        self.position = position
        self.what = what


def _parse_form(builder: _Builder, service: Mapping[str, Any]) -> FormSpec | None:
    form = builder.mapping(service, "form", "form", "Formular")
    if form is None:
        return None
    builder.check_keys(form, FORM_KEYS, "Formular")
    if not builder.require(form, "steps", "Formular"):
        return None
    raw_steps = builder.sequence(form, "steps", "Formular")
    if raw_steps is None:
        return None
    if not raw_steps:
        builder.report(
            InvalidValueError,
            form,
            "steps",
            "steps",
            "Formular: ein Online-Formular braucht mindestens einen Schritt.",
        )
        return None
    steps: list[StepSpec] = []
    fields: dict[str, _Placed] = {}
    containers: list[_Placed] = []
    step_names: dict[str, int | None] = {}
    fieldset_names: dict[str, int | None] = {}
    position = 0
    ok = True
    for step_index, _ in enumerate(raw_steps):
        step = builder.mapping(raw_steps, step_index, "steps", f"Schritt {step_index + 1}")
        if step is None:
            ok = False
            continue
        step_name = builder.name(
            step,
            "name",
            f"Schritt {step_index + 1}",
            _SLUG,
            "erlaubt sind Kleinbuchstaben, Ziffern und -, z. B. angaben-zum-hund",
        )
        what = f"Schritt „{step_name}“" if step_name else f"Schritt {step_index + 1}"
        builder.check_keys(step, STEP_KEYS, what)
        _check_unique(builder, step_names, step_name, step, "name", "Schrittname")
        title = builder.text(step, "title", what, required=True)
        step_start = position
        fieldsets: list[FieldsetSpec] = []
        raw_fieldsets = (
            builder.sequence(step, "fieldsets", what) if builder.require(step, "fieldsets", what) else None
        )
        if not raw_fieldsets:
            if raw_fieldsets is not None:
                builder.report(
                    InvalidValueError,
                    step,
                    "fieldsets",
                    "fieldsets",
                    f"{what}: der Schritt hat keine Feldgruppen.",
                )
            ok = False
            raw_fieldsets = []
        for fieldset_index, _ in enumerate(raw_fieldsets):
            fieldset = builder.mapping(
                raw_fieldsets, fieldset_index, "fieldsets", f"{what}, Feldgruppe {fieldset_index + 1}"
            )
            if fieldset is None:
                ok = False
                continue
            fieldset_name = builder.name(
                fieldset,
                "name",
                f"{what}, Feldgruppe {fieldset_index + 1}",
                _NAME,
                "erlaubt sind Kleinbuchstaben, Ziffern und _, am Anfang ein Buchstabe",
            )
            fs_what = (
                f"Feldgruppe „{fieldset_name}“"
                if fieldset_name
                else f"{what}, Feldgruppe {fieldset_index + 1}"
            )
            builder.check_keys(fieldset, FIELDSET_KEYS, fs_what)
            _check_unique(builder, fieldset_names, fieldset_name, fieldset, "name", "Feldgruppenname")
            fieldset_start = position
            field_specs: list[FieldSpec] = []
            raw_fields = (
                builder.sequence(fieldset, "fields", fs_what)
                if builder.require(fieldset, "fields", fs_what)
                else None
            )
            if not raw_fields:
                if raw_fields is not None:
                    builder.report(
                        InvalidValueError,
                        fieldset,
                        "fields",
                        "fields",
                        f"{fs_what}: die Feldgruppe hat keine Felder.",
                    )
                ok = False
                raw_fields = []
            for field_index, _ in enumerate(raw_fields):
                raw_field = builder.mapping(
                    raw_fields, field_index, "fields", f"{fs_what}, Feld {field_index + 1}"
                )
                if raw_field is None:
                    ok = False
                    continue
                spec = builder.field(raw_field)
                if spec is None:
                    ok = False
                    continue
                if spec.name in fields:
                    first = location_of(fields[spec.name].mapping, "name", builder.file)
                    builder.report(
                        DuplicateNameError,
                        raw_field,
                        "name",
                        "name",
                        f"Feld „{spec.name}“: der Feldname kommt doppelt vor (zuerst in {first.file}, Zeile "
                        f"{first.line}); jedes Feld braucht einen eigenen Namen.",
                    )
                    ok = False
                    continue
                fields[spec.name] = _Placed(spec, raw_field, position, f"Feld „{spec.name}“")
                if spec.show_if:
                    containers.append(_Placed(spec.show_if, raw_field, position, f"Feld „{spec.name}“"))
                position += 1
                field_specs.append(spec)
            show_if = builder.condition(fieldset, "show_if", fs_what)
            if show_if:
                containers.append(_Placed(show_if, fieldset, fieldset_start, fs_what))
            if fieldset_name is not None:
                fieldsets.append(
                    FieldsetSpec(
                        name=fieldset_name,
                        legend=builder.text(fieldset, "legend", fs_what),
                        show_if=show_if,
                        fields=tuple(field_specs),
                    )
                )
        show_if = builder.condition(step, "show_if", what)
        if show_if:
            containers.append(_Placed(show_if, step, step_start, what))
        intro = builder.text(step, "intro", what)
        if step_name is not None and title is not None:
            steps.append(
                StepSpec(
                    name=step_name, title=title, intro=intro, show_if=show_if, fieldsets=tuple(fieldsets)
                )
            )
    for placed in containers:
        _check_condition(
            builder, placed.spec, placed.mapping, "show_if", placed.what, fields, before=placed.position
        )
    if fields and not any(placed.spec.type is FieldType.CONSENT for placed in fields.values()):
        builder.report(
            MissingKeyError,
            form,
            "steps",
            "steps",
            "Formular: es fehlt ein Feld vom Typ „consent“ (Kenntnisnahme der Datenschutzhinweise); "
            "jedes Online-Formular endet damit.",
        )
    if not ok or builder.errors:
        return None
    return FormSpec(steps=tuple(steps))


def _check_unique(
    builder: _Builder,
    seen: dict[str, int | None],
    name: str | None,
    mapping: Mapping[str, Any],
    key: str,
    noun: str,
) -> None:
    if name is None:
        return
    if name in seen:
        builder.report(
            DuplicateNameError,
            mapping,
            key,
            key,
            f"{noun} „{name}“ kommt doppelt vor (zuerst in Zeile {seen[name]}); Namen müssen eindeutig sein.",
        )
        return
    seen[name] = location_of(mapping, key, builder.file).line


def _check_condition(
    builder: _Builder,
    condition: Condition,
    mapping: Mapping[str, Any],
    key: str,
    what: str,
    fields: Mapping[str, _Placed],
    before: int | None,
) -> bool:
    """Report a condition on an unknown, later or unsuitable field, or one that never holds."""
    target = fields.get(condition.field)
    if target is None:
        guess = suggest(condition.field, fields)
        hint = f" – meinten Sie „{guess}“?" if guess else ""
        builder.report(
            ConditionError,
            mapping,
            key,
            key,
            f"{what}: „{key}“ bezieht sich auf das Feld „{condition.field}“, das es in diesem Formular "
            f"nicht gibt{hint}",
        )
        return False
    if before is not None and target.position >= before:
        line = location_of(target.mapping, "name", builder.file).line
        builder.report(
            ConditionError,
            mapping,
            key,
            key,
            f"{what}: „{key}“ bezieht sich auf das Feld „{condition.field}“ (Zeile {line}), das erst "
            "später oder "
            "im selben Teil gefragt wird. Bedingungen dürfen nur Antworten prüfen, die vorher gegeben "
            "wurden.",
        )
        return False
    field: FieldSpec = target.spec
    if field.type is FieldType.HELP:
        builder.report(
            ConditionError,
            mapping,
            key,
            key,
            f"{what}: „{condition.field}“ ist ein Hinweistext und hat keine Antwort.",
        )
        return False
    if condition.operator in (ConditionOperator.EQUALS, ConditionOperator.ONE_OF):
        if field.type not in CHOICE_TYPES:
            builder.report(
                ConditionError,
                mapping,
                key,
                key,
                f"{what}: „{condition.operator.value}“ passt nur zu Auswahlfeldern (select, radio, "
                "multicheckbox); "
                f"„{condition.field}“ ist vom Typ „{field.type.value}“.",
            )
            return False
        known = {option.value for option in field.options}
        unknown = [value for value in condition.values if value not in known]
        if unknown:
            builder.report(
                ConditionError,
                mapping,
                key,
                key,
                f"{what}: wird nie angezeigt – das Feld „{condition.field}“ hat keine Option "
                f"{', '.join(f'„{value}“' for value in unknown)} (Optionen: {', '.join(sorted(known))}).",
            )
            return False
    elif field.type not in BOOLEAN_TYPES:
        builder.report(
            ConditionError,
            mapping,
            key,
            key,
            f"{what}: „{condition.operator.value}“ passt nur zu Feldern vom Typ „checkbox“; "
            f"„{condition.field}“ ist vom Typ „{field.type.value}“.",
        )
        return False
    elif field.type is FieldType.CONSENT:
        builder.report(
            ConditionError,
            mapping,
            key,
            key,
            f"{what}: „{condition.field}“ ist eine Einwilligung und immer angekreuzt; die Bedingung ist "
            "sinnlos.",
        )
        return False
    return True


def _check_fees(builder: _Builder, service: Mapping[str, Any], fees: FeeSpec, form: FormSpec | None) -> None:
    placed = {}
    if form is not None:
        placed = {field.name: _Placed(field, {}, index, "") for index, field in enumerate(form.fields())}
    raw_rules = service["fees"].get("rules") or []
    for index, rule in enumerate(fees.rules):
        entry = raw_rules[index] if index < len(raw_rules) else {}
        where = f"Gebührenregel „{rule.label}“"
        if rule.when is not None:
            _check_condition(builder, rule.when, entry, "when", where, placed, before=None)
        if rule.per is not None:
            target = placed.get(rule.per)
            if target is None:
                guess = suggest(rule.per, placed)
                hint = f" – meinten Sie „{guess}“?" if guess else ""
                builder.report(
                    FeeRuleError,
                    entry,
                    "per",
                    "per",
                    f"{where}: „per“ nennt das unbekannte Feld „{rule.per}“{hint}",
                )
            elif target.spec.type not in (FieldType.INTEGER, FieldType.MULTICHECKBOX, FieldType.FILE):
                builder.report(
                    FeeRuleError,
                    entry,
                    "per",
                    "per",
                    f"{where}: „per“ braucht ein Feld, das eine Anzahl ergibt (integer, multicheckbox, "
                    "file); "
                    f"„{rule.per}“ ist vom Typ „{target.spec.type.value}“.",
                )


def parse_service(
    data: Any, slug: str, file: str, *, commune: str | None = None, extends: str | None = None
) -> tuple[ServiceSpec | None, list[SpecError]]:
    """Validate one (merged) definition; the service, or None and every mistake found."""
    builder = _Builder(file)
    if not isinstance(data, dict):
        builder.report(
            WrongTypeError,
            data,
            0,
            "",
            "Die Datei muss ein Abschnitt mit Schlüsseln (title:, short_text:, ...) sein, nicht "
            f"{describe(data)}.",
        )
        return None, builder.errors
    what = "Dienst"
    builder.check_keys(data, SERVICE_KEYS, what)
    declared_slug = builder.text(data, "slug", what)
    if declared_slug is not None and declared_slug != slug:
        builder.report(
            InvalidValueError,
            data,
            "slug",
            "slug",
            f"Dienst: „slug: {declared_slug}“ passt nicht zum Dateinamen ({slug}.yaml); der Dateiname "
            "bestimmt den slug.",
        )
    if not _SLUG.match(slug):
        builder.report(
            InvalidValueError,
            data,
            "slug",
            "slug",
            f"Dienst: der Dateiname „{slug}“ taugt nicht als Adresse; erlaubt sind Kleinbuchstaben, "
            "Ziffern und -.",
        )
    title = builder.text(data, "title", what, required=True)
    short_text = builder.text(data, "short_text", what, required=True)
    topic = builder.text(data, "topic", what, required=True)
    office_kind = builder.text(data, "office_kind", what, required=True)
    if office_kind is not None and office_kind not in OFFICE_KINDS:
        guess = suggest(office_kind, OFFICE_KINDS)
        hint = f" – meinten Sie „{guess}“?" if guess else f" Möglich sind: {', '.join(OFFICE_KINDS)}."
        builder.report(
            InvalidValueError,
            data,
            "office_kind",
            "office_kind",
            f"Dienst: unbekannte Amtsart „{office_kind}“{hint}",
        )
    leika_key = builder.text(data, "leika_key", what)
    if leika_key is not None and not _LEIKA.match(leika_key):
        builder.report(
            InvalidValueError,
            data,
            "leika_key",
            "leika_key",
            f"Dienst: „{leika_key}“ ist kein LeiKa-Schlüssel (14 Ziffern); im Zweifel den Schlüssel "
            "weglassen.",
        )
    has_form = "form" in data and data["form"] is not None
    online = builder.boolean(data, "online", what, has_form)
    form = _parse_form(builder, data) if has_form else None
    if online and not has_form:
        builder.report(
            MissingKeyError,
            data,
            "online",
            "form",
            "Dienst: ein Online-Dienst (online: true) braucht ein Formular unter „form:“; "
            "für einen reinen Informationsdienst „online: false“ schreiben.",
        )
    if not online and has_form:
        builder.report(
            InvalidValueError,
            data,
            "form",
            "form",
            "Dienst: ein Informationsdienst (online: false) hat kein Formular; „form:“ entfernen oder "
            "„online: true“.",
        )
    fees = builder.fees(data)
    if fees is not None and not builder.errors:
        _check_fees(builder, data, fees, form)
    retention_days = builder.integer(data, "retention_days", what, minimum=1)
    if builder.errors or title is None or short_text is None or topic is None or office_kind is None:
        return None, builder.errors
    # A plain copy (dicts and lists, no locations) through JSON: the source must be JSON
    # anyway, and the C encoder copies far faster than walking the located containers.
    source = json.loads(json.dumps({**data, "slug": slug}, ensure_ascii=False))
    service = ServiceSpec(
        slug=slug,
        title=title,
        short_text=short_text,
        description=builder.text(data, "description", what) or "",
        audience=builder.text(data, "audience", what),
        required_documents=builder.text_list(data, "required_documents", what),
        fees=fees,
        legal_basis=builder.text_list(data, "legal_basis", what),
        processing_time=builder.text(data, "processing_time", what),
        office_kind=office_kind,
        leika_key=leika_key,
        topic=topic,
        online=online,
        form=form,
        version=canonical_version(source),
        source=source,
        retention_days=retention_days,
        commune=commune,
        extends=extends,
    )
    return service, builder.errors


def service_from_source(source: Mapping[str, Any]) -> ServiceSpec:
    """Rebuild a ServiceSpec from a stored, merged source; InvalidSpec if it is not valid."""
    plain = to_plain(dict(source))
    slug = plain.get("slug")
    if not isinstance(slug, str):
        raise InvalidSpec(
            [MissingKeyError("<source>", None, "slug", "Die gespeicherte Definition hat keinen slug.")]
        )
    service, errors = parse_service(plain, slug, f"<source {slug}>")
    if service is None:
        raise InvalidSpec(errors)
    return service
