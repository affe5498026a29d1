"""The parsed form of a service definition: frozen, typed, and free of YAML.

Everything downstream (the WTForms compiler, fees, summaries, the data schema, the web
layer, PDFs) reads these objects, never the YAML files.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from decimal import Decimal
from enum import StrEnum
from typing import Any


class _CompactPickle:
    """Dataclass mixin: a pickle leaves out the fields that hold their default value.

    Those are class attributes of the dataclass, so an instance without them in its
    ``__dict__`` reads the same; a cached FieldSpec then carries its 5 or 6 settings instead
    of all 28, which makes the start-up cache smaller and faster to read.
    """

    def __getstate__(self) -> dict[str, Any]:
        defaults = _plain_defaults(type(self))
        return {
            name: value
            for name, value in self.__dict__.items()
            if name not in defaults or not (type(value) is type(defaults[name]) and value == defaults[name])
        }


@functools.cache
def _plain_defaults(cls: type) -> dict[str, Any]:
    return {
        spec.name: spec.default
        for spec in fields(cls)  # type: ignore[arg-type]
        if spec.default is not MISSING and getattr(cls, spec.name, MISSING) is spec.default
    }


class _PicklesByName:
    """Enum mixin: a pickle names the member (``getattr(cls, name)``, a C call) instead of
    calling the enum class with its value, which costs a Python call per member when the
    start-up cache (speccache.py) is read."""

    name: str

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return getattr, (type(self), self.name)


class FieldType(_PicklesByName, StrEnum):
    """The kinds of question a form may ask (see forms/README.md for each)."""

    TEXT = "text"
    TEXTAREA = "textarea"
    EMAIL = "email"
    PHONE = "phone"
    INTEGER = "integer"
    DECIMAL = "decimal"
    MONEY = "money"
    DATE = "date"
    TIME = "time"
    SELECT = "select"
    RADIO = "radio"
    CHECKBOX = "checkbox"
    MULTICHECKBOX = "multicheckbox"
    FILE = "file"
    IBAN = "iban"
    POSTAL_CODE = "postal_code"
    ADDRESS = "address"
    HELP = "help"
    CONSENT = "consent"


#: Field types that offer a fixed list of options.
CHOICE_TYPES = frozenset({FieldType.SELECT, FieldType.RADIO, FieldType.MULTICHECKBOX})
#: Field types whose answer is true or false.
BOOLEAN_TYPES = frozenset({FieldType.CHECKBOX, FieldType.CONSENT})
#: Field types that take no answer.
STATIC_TYPES = frozenset({FieldType.HELP})

#: The FIM XDatenfelder datatype (code list urn:xoev-de:fim:codeliste:xdatenfelder.datentyp)
#: each field type corresponds to; ``None`` where FIM has no single datatype for it
#: (the address is a FIM data field group of four text fields).
FIM_DATATYPES: Mapping[FieldType, str | None] = {
    FieldType.TEXT: "text",
    FieldType.TEXTAREA: "text",
    FieldType.EMAIL: "text",
    FieldType.PHONE: "text",
    FieldType.INTEGER: "num_int",
    FieldType.DECIMAL: "num",
    FieldType.MONEY: "num_currency",
    FieldType.DATE: "date",
    FieldType.TIME: "time",
    FieldType.SELECT: "select",
    FieldType.RADIO: "select",
    FieldType.CHECKBOX: "bool",
    FieldType.MULTICHECKBOX: "select",
    FieldType.FILE: "file",
    FieldType.IBAN: "text",
    FieldType.POSTAL_CODE: "text",
    FieldType.ADDRESS: None,
    FieldType.HELP: None,
    FieldType.CONSENT: "bool",
}


#: The kinds of office a service may be handled by (matched against Office.kind).
OFFICE_KINDS = (
    "buergeramt",
    "ordnungsamt",
    "gewerbeamt",
    "bauamt",
    "kaemmerei",
    "standesamt",
    "kita",
    "wahlamt",
    "hauptamt",
)

#: HTML autocomplete tokens a field may declare (WHATWG "autofill field names").
AUTOCOMPLETE_TOKENS = frozenset(
    {
        "off",
        "on",
        "name",
        "honorific-prefix",
        "given-name",
        "additional-name",
        "family-name",
        "honorific-suffix",
        "nickname",
        "username",
        "organization-title",
        "organization",
        "street-address",
        "address-line1",
        "address-line2",
        "address-line3",
        "address-level1",
        "address-level2",
        "address-level3",
        "address-level4",
        "country",
        "country-name",
        "postal-code",
        "language",
        "bday",
        "bday-day",
        "bday-month",
        "bday-year",
        "sex",
        "email",
        "tel",
        "tel-national",
        "url",
    }
)


class ConditionOperator(_PicklesByName, StrEnum):
    """How a ``show_if`` compares the earlier answer."""

    EQUALS = "equals"
    ONE_OF = "one_of"
    IS_TRUE = "is_true"
    IS_FALSE = "is_false"


@dataclass(frozen=True)
class Condition(_CompactPickle):
    """``show_if``: the part is shown only when the earlier answer of ``field`` matches.

    For a multi-checkbox, ``equals`` means "this option is among the ticked ones" and
    ``one_of`` "any of these options is ticked". A field without an answer (hidden, or
    left empty) matches only ``is_false``.
    """

    field: str
    operator: ConditionOperator
    values: tuple[str, ...] = ()

    def matches(self, answer: Any) -> bool:
        """Whether ``answer`` (the stored answer of ``self.field``, or None) satisfies this."""
        if self.operator is ConditionOperator.IS_TRUE:
            return answer is True
        if self.operator is ConditionOperator.IS_FALSE:
            return answer is not True
        if answer is None:
            return False
        chosen = {str(item) for item in answer} if isinstance(answer, list | tuple) else {str(answer)}
        return bool(chosen & set(self.values))


@dataclass(frozen=True)
class Option(_CompactPickle):
    """One choice of a select, radio or multi-checkbox; ``fee`` is added when it is chosen."""

    value: str
    label: str
    fee: Decimal | None = None


_RELATIVE_DATE = re.compile(r"^([+-])([0-9]{1,5})([dwmy])$")
#: Shifts up to 200 years, so that a bound always resolves to a real date.
_LONGEST_SHIFT = {"d": 73000, "w": 10400, "m": 2400, "y": 200}


@dataclass(frozen=True)
class DateBound(_CompactPickle):
    """A date limit: a fixed ISO date, or ``today`` shifted by days, weeks, months or years.

    ``-18y`` as a ``max`` means "at least 18 years ago"; ``+30d`` as a ``max`` means
    "at most 30 days from today".
    """

    expression: str
    fixed: dt.date | None = None
    sign: int = 0
    amount: int = 0
    unit: str = "d"

    @classmethod
    def parse(cls, expression: str) -> DateBound:
        """Read ``today``, ``+30d``/``-2w``/``+6m``/``-18y`` or ``YYYY-MM-DD``; ValueError otherwise."""
        text = expression.strip()
        if text == "today":
            return cls(expression=text)
        match = _RELATIVE_DATE.match(text)
        if match:
            sign, amount, unit = match.groups()
            if int(amount) > _LONGEST_SHIFT[unit]:
                raise ValueError(f"{text}: more than 200 years from today")
            return cls(expression=text, sign=1 if sign == "+" else -1, amount=int(amount), unit=unit)
        return cls(expression=text, fixed=dt.date.fromisoformat(text))

    def resolve(self, today: dt.date) -> dt.date:
        """The concrete date this bound stands for on ``today``."""
        if self.fixed is not None:
            return self.fixed
        offset = self.sign * self.amount
        if self.unit == "d":
            return today + dt.timedelta(days=offset)
        if self.unit == "w":
            return today + dt.timedelta(weeks=offset)
        months = today.month - 1 + (offset if self.unit == "m" else 12 * offset)
        year, month = today.year + months // 12, months % 12 + 1
        day = min(today.day, calendar.monthrange(year, month)[1])
        return dt.date(year, month, day)


@dataclass(frozen=True)
class FieldSpec(_CompactPickle):
    """One question. ``name`` is unique within the form and is the key of its answer.

    Type-specific settings are ``None`` (or empty) where they do not apply. ``autocomplete``
    is the HTML autocomplete token for personal data (``given-name``, ``email``, ``bday`` ...).
    ``text`` is the Markdown body of a ``help`` field. A ``consent`` field is always
    required and its label is shown with a link to the commune's privacy notice
    (``links_privacy_notice``; the web layer supplies the URL).
    """

    name: str
    type: FieldType
    label: str
    hint: str | None = None
    required: bool = True
    show_if: Condition | None = None
    autocomplete: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    rows: int | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    places: int | None = None
    min_date: DateBound | None = None
    max_date: DateBound | None = None
    min_time: dt.time | None = None
    max_time: dt.time | None = None
    options: tuple[Option, ...] = ()
    min_choices: int | None = None
    max_choices: int | None = None
    accept: tuple[str, ...] = ()
    max_size: int | None = None
    multiple: bool = False
    max_files: int | None = None
    text: str | None = None

    @property
    def fim_datatype(self) -> str | None:
        """The FIM XDatenfelder datatype of this field, or None (see FIM_DATATYPES)."""
        return FIM_DATATYPES[self.type]

    @property
    def takes_answer(self) -> bool:
        """False for static help text, which is shown but never answered or stored."""
        return self.type not in STATIC_TYPES

    @property
    def links_privacy_notice(self) -> bool:
        """True for consent fields: the label is shown with a link to the privacy notice."""
        return self.type is FieldType.CONSENT

    def option(self, value: str) -> Option | None:
        """The option with this value, or None."""
        for option in self.options:
            if option.value == value:
                return option
        return None


@dataclass(frozen=True)
class FieldsetSpec:
    """A group of fields shown under one legend (``legend`` None: no visible group)."""

    name: str
    legend: str | None
    show_if: Condition | None
    fields: tuple[FieldSpec, ...]


@dataclass(frozen=True)
class StepSpec:
    """One page of the citizen's way through the form; ``name`` is its URL segment."""

    name: str
    title: str
    intro: str | None
    show_if: Condition | None
    fieldsets: tuple[FieldsetSpec, ...]

    def fields(self) -> Iterator[FieldSpec]:
        """Every field of this step, in order."""
        for fieldset in self.fieldsets:
            yield from fieldset.fields


@dataclass(frozen=True)
class FormSpec:
    """The form of an online service: steps, in the order the citizen walks them."""

    steps: tuple[StepSpec, ...]

    def fields(self) -> Iterator[FieldSpec]:
        """Every field of the form, in document order."""
        for step in self.steps:
            yield from step.fields()

    def field(self, name: str) -> FieldSpec | None:
        """The field with this name, or None."""
        for candidate in self.fields():
            if candidate.name == name:
                return candidate
        return None

    def step(self, name: str) -> StepSpec | None:
        """The step with this name, or None."""
        for step in self.steps:
            if step.name == name:
                return step
        return None

    def step_of(self, field_name: str) -> StepSpec | None:
        """The step that asks the field with this name, or None."""
        for step in self.steps:
            if any(candidate.name == field_name for candidate in step.fields()):
                return step
        return None


@dataclass(frozen=True)
class FeeRule(_CompactPickle):
    """One line of the fee calculation.

    ``amount`` is charged when ``when`` holds (always, without ``when``); with ``per`` it is
    multiplied by the count the answer of that field gives (an integer field's number, the
    number of ticked options or of uploaded files).
    """

    label: str
    amount: Decimal
    when: Condition | None = None
    per: str | None = None


@dataclass(frozen=True)
class FeeSpec(_CompactPickle):
    """The fees of a service: the text shown on the service page and the computable rules."""

    text: str | None
    rules: tuple[FeeRule, ...] = ()


@dataclass(frozen=True)
class FeeLine:
    """One charged item: its (German source) label and amount in EUR."""

    label: str
    amount: Decimal


@dataclass(frozen=True)
class FeeResult:
    """The fees for a set of answers, line by line and in total (EUR, two places)."""

    lines: tuple[FeeLine, ...]
    total: Decimal


@dataclass(frozen=True)
class SummaryRow:
    """One answer for display: the field, its label, the display text and the stored value."""

    name: str
    label: str
    text: str
    value: Any
    type: FieldType


@dataclass(frozen=True)
class SummaryFieldset:
    """The answered fields of one visible fieldset."""

    name: str
    legend: str | None
    rows: tuple[SummaryRow, ...]


@dataclass(frozen=True)
class SummarySection:
    """The answers of one visible step (with its name, for the Change link)."""

    name: str
    title: str
    fieldsets: tuple[SummaryFieldset, ...]


_SOURCE_JSON = "_source_json"


@dataclass(frozen=True, eq=False)
class ServiceSpec:
    """A service of the catalogue, described after the German Leistungsbeschreibung (LeiKa).

    ``form`` is None for information-only services (``online`` False). ``version`` is the
    SHA-256 of the canonical JSON of ``source``; ``source`` is the merged definition
    (overrides applied), JSON-serialisable, to be stored with each submission so old
    submissions render after the form changed (``ServiceSpec.from_source``). ``commune``
    names the commune whose override or own service this is (None: the catalogue's).
    ``source`` must not be mutated.

    Pickled (the start-up cache, speccache.py), ``source`` travels as its JSON text and is
    decoded only when first read: a worker that never stores a submission of the service
    never builds it.
    """

    slug: str
    title: str
    short_text: str
    description: str
    audience: str | None
    required_documents: tuple[str, ...]
    fees: FeeSpec | None
    legal_basis: tuple[str, ...]
    processing_time: str | None
    office_kind: str
    leika_key: str | None
    topic: str
    online: bool
    form: FormSpec | None
    version: str
    source: dict[str, Any] = field(repr=False)
    retention_days: int | None = None
    commune: str | None = None
    extends: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        source = state.pop("source", None)
        if source is not None:
            state[_SOURCE_JSON] = json.dumps(source, ensure_ascii=False, separators=(",", ":")).encode()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes not in __dict__: the not yet decoded source.
        if name == "source":
            blob = self.__dict__.get(_SOURCE_JSON)
            if blob is not None:
                source = json.loads(blob)
                self.__dict__["source"] = source
                return source
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @classmethod
    def from_source(cls, source: Mapping[str, Any]) -> ServiceSpec:
        """Rebuild a service from a stored ``source``; raises InvalidSpec if it is not valid."""
        from app.formspec.parser import service_from_source

        return service_from_source(source)
