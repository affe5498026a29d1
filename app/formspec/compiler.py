"""Compiling a step of a FormSpec to a WTForms class (built once, cached).

Every field carries one validator, ``SpecValidator``, which knows the FieldSpec: it checks
the input, converts it to the stored answer (``field.answer``) and words every message
through the injected gettext (dates and times in them through the injected language,
see ``texts.Localised``). Fields keep the text the citizen typed, so a page with
errors shows exactly what was entered.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any, ClassVar

from markupsafe import Markup, escape
from stdnum import iban as stdnum_iban
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from wtforms import Form
from wtforms.fields import (
    BooleanField,
    Field,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, FileInput, ListWidget

from app.formspec.conditions import effective_answers, is_visible
from app.formspec.model import (
    CHOICE_TYPES,
    Condition,
    FieldsetSpec,
    FieldSpec,
    FieldType,
    FormSpec,
    ServiceSpec,
    StepSpec,
)
from app.formspec.texts import N_, Gettext, Language, Localised, german, human_size, media_type_name
from app.formspec.uploads import detect_media_type, is_empty_upload, read_upload
from app.formspec.values import (
    as_date,
    compact_iban,
    decimal_places,
    format_iban,
    format_number,
    parse_date_parts,
    parse_number,
    parse_time,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()/.\-]*[0-9]$")
_POSTAL_CODE = re.compile(r"^[0-9]{5}$")
_HOUSE_NUMBER = re.compile(r"^[0-9]{1,4}\s?[a-zA-Z]?(\s?[-/]\s?[0-9]{0,4}\s?[a-zA-Z]?)?$")
_CACHE_SIZE = 512
#: Numbers from 10^15 on are refused: no form asks for them, and Decimal arithmetic with
#: cents (fees, rounding) stays exact far below its 28-digit precision.
_LARGEST_NUMBER = Decimal(10) ** 15


@dataclass(frozen=True, slots=True)
class SubInput:
    """One input of a compound field (date or address) for the template."""

    name: str
    id: str
    label: Any
    value: str
    autocomplete: str | None = None
    inputmode: str | None = None
    width: str | None = None


def _first(formdata: Any, name: str) -> str:
    values = formdata.getlist(name) if name in formdata else []
    value = values[0] if values else ""
    return value.strip() if isinstance(value, str) else ""


class SubInputsWidget:
    """Plain rendering of a compound field: one labelled text input per sub-input.

    The portal's templates render compound fields with their own components; this keeps
    ``field()`` working for generic renderers (and the benchmark).
    """

    def __call__(self, field: _CompoundField, **kwargs: Any) -> Markup:
        html = []
        for sub in field.subfields:
            attributes = f' autocomplete="{sub.autocomplete}"' if sub.autocomplete else ""
            if sub.inputmode:
                attributes += f' inputmode="{sub.inputmode}"'
            html.append(
                f'<label for="{escape(sub.id)}">{escape(sub.label)}</label>'
                f'<input type="text" id="{escape(sub.id)}" name="{escape(sub.name)}"'
                f' value="{escape(sub.value)}"{attributes}>'
            )
        return Markup("".join(html))


class _NoInput:
    """The widget of a help field: it has no input to render."""

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        return Markup("")


class _CompoundField(Field):
    """A field made of several text inputs named ``<name>-<part>`` (date, address)."""

    widget = SubInputsWidget()

    parts: ClassVar[tuple[tuple[str, str, str | None, str | None, str | None], ...]] = ()

    def __init__(self, *args: Any, part_labels: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.part_labels = dict(part_labels or {})
        self.id = f"{self.id}-{self.parts[0][0]}"
        self.raw_parts: dict[str, str] = {part: "" for part, *_ in self.parts}

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        self.process_errors = []
        self.object_data = None if data is unset_value else data
        self.raw_parts = self.parts_from_data(self.object_data)
        if formdata is not None:
            self.raw_parts = {part: _first(formdata, f"{self.name}-{part}") for part, *_ in self.parts}
        self.data = dict(self.raw_parts)

    def parts_from_data(self, data: Any) -> dict[str, str]:
        """The sub-input texts for a stored answer (a mapping of part → text)."""
        values = data if isinstance(data, Mapping) else {}
        return {part: str(values.get(part) or "") for part, *_ in self.parts}

    def is_empty(self) -> bool:
        return not any(self.raw_parts.values())

    @property
    def subfields(self) -> list[SubInput]:
        """The sub-inputs to render, in order (ids are ``<name>-<part>``)."""
        base = self.name
        return [
            SubInput(
                name=f"{base}-{part}",
                id=f"{base}-{part}",
                label=self.part_labels.get(part, part),
                value=self.raw_parts.get(part, ""),
                autocomplete=self.part_autocomplete(part, autocomplete),
                inputmode=inputmode,
                width=width,
            )
            for part, _, autocomplete, inputmode, width in self.parts
        ]

    def part_autocomplete(self, part: str, default: str | None) -> str | None:
        return default

    def _value(self) -> str:
        return ""


class DateInputField(_CompoundField):
    """A date as day, month and year inputs (GOV.UK date input pattern)."""

    parts = (
        ("day", "Tag", None, "numeric", "2"),
        ("month", "Monat", None, "numeric", "2"),
        ("year", "Jahr", None, "numeric", "4"),
    )

    def __init__(self, *args: Any, bday: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bday = bday

    def parts_from_data(self, data: Any) -> dict[str, str]:
        value = as_date(data)
        if value is None:
            return {"day": "", "month": "", "year": ""}
        return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}

    def part_autocomplete(self, part: str, default: str | None) -> str | None:
        return f"bday-{part}" if self.bday else None


class AddressField(_CompoundField):
    """A postal address in Germany: street, house number, postal code and town."""

    parts = (
        ("street", "Straße", "street-address", None, None),
        ("house_number", "Hausnummer", None, None, "5"),
        ("postal_code", "Postleitzahl", "postal-code", "numeric", "5"),
        ("town", "Ort", "address-level2", None, None),
    )


class HelpField(Field):
    """Static Markdown text in the flow of a form; no input, never stored."""

    widget = _NoInput()

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        self.process_errors = []
        self.data = None

    def _value(self) -> str:
        return ""


class _ChoiceMixin:
    """Choice fields whose choice check is SpecValidator's (with a translated message)."""

    def pre_validate(self, form: Any) -> None:
        return None


class ChoiceSelectField(_ChoiceMixin, SelectField):
    """A drop-down list."""


class ChoiceRadioField(_ChoiceMixin, RadioField):
    """Radio buttons."""


class MultiCheckboxField(_ChoiceMixin, SelectMultipleField):
    """Several checkboxes; the answer is the list of ticked option values."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UploadField(Field):
    """A file upload; ``data`` is the list of non-empty uploads (FileStorage-like objects)."""

    def __init__(self, *args: Any, multiple: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, widget=FileInput(multiple=multiple), **kwargs)
        self.multiple = multiple

    def process_data(self, value: Any) -> None:
        self.data = []

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = [item for item in valuelist if not is_empty_upload(item)]

    def _value(self) -> str:
        return ""


#: The flags WTForms copies from a validator onto its field (shared: never changed).
_REQUIRED_FLAGS: Mapping[str, bool] = MappingProxyType({"required": True})
_NO_FLAGS: Mapping[str, bool] = MappingProxyType({})


class SpecValidator:
    """Checks one field against its FieldSpec and converts the input to the stored answer.

    Raises StopValidation with a translated message; on success sets ``field.answer`` to
    the JSON value (None for an empty optional field; uploads for file fields).
    """

    __slots__ = ("field_flags", "spec")

    def __init__(self, spec: FieldSpec) -> None:
        self.spec = spec
        self.field_flags = _REQUIRED_FLAGS if spec.required else _NO_FLAGS

    def __call__(self, form: StepForm, field: Field) -> None:
        field.answer = None
        check = getattr(self, f"_check_{self.spec.type.value}")
        field.answer = check(form, field, form.translate)

    # -- helpers -----------------------------------------------------------------

    def _label(self, _: Gettext) -> Any:
        return _(self.spec.label)

    def _missing(self, _: Gettext) -> StopValidation:
        spec = self.spec
        if spec.type in CHOICE_TYPES:
            return StopValidation(_("Wählen Sie bei „%(label)s“ eine Antwort aus.", label=self._label(_)))
        if spec.type in (FieldType.CHECKBOX, FieldType.CONSENT):
            return StopValidation(_("Setzen Sie das Häkchen bei „%(label)s“.", label=self._label(_)))
        if spec.type is FieldType.FILE:
            return StopValidation(_("Laden Sie eine Datei für „%(label)s“ hoch.", label=self._label(_)))
        return StopValidation(_("Geben Sie „%(label)s“ an.", label=self._label(_)))

    def _text(self, field: Field, _: Gettext) -> str | None:
        value = field.data.strip() if isinstance(field.data, str) else ""
        if not value:
            if self.spec.required:
                raise self._missing(_)
            return None
        spec = self.spec
        if spec.min_length is not None and len(value) < spec.min_length:
            raise StopValidation(
                _(
                    "„%(label)s“ muss mindestens %(min)d Zeichen lang sein.",
                    label=self._label(_),
                    min=spec.min_length,
                )
            )
        if spec.max_length is not None and len(value) > spec.max_length:
            raise StopValidation(
                _(
                    "„%(label)s“ darf höchstens %(max)d Zeichen lang sein.",
                    label=self._label(_),
                    max=spec.max_length,
                )
            )
        return value

    # -- one method per field type -------------------------------------------------

    def _check_text(self, form: StepForm, field: Field, _: Gettext) -> str | None:
        value = self._text(field, _)
        if value is not None and self.spec.pattern and not re.fullmatch(self.spec.pattern, value):
            if self.spec.pattern_message:
                raise StopValidation(_(self.spec.pattern_message))
            raise StopValidation(_("„%(label)s“ hat nicht das erwartete Format.", label=self._label(_)))
        return value

    def _check_textarea(self, form: StepForm, field: Field, _: Gettext) -> str | None:
        return self._text(field, _)

    def _check_email(self, form: StepForm, field: Field, _: Gettext) -> str | None:
        value = self._text(field, _)
        if value is not None and not _EMAIL.fullmatch(value):
            raise StopValidation(
                _("Geben Sie eine E-Mail-Adresse im richtigen Format an, z. B. name@example.de.")
            )
        return value

    def _check_phone(self, form: StepForm, field: Field, _: Gettext) -> str | None:
        value = self._text(field, _)
        if value is not None and (not _PHONE.fullmatch(value) or sum(c.isdigit() for c in value) < 5):
            raise StopValidation(
                _("Geben Sie eine Telefonnummer an, z. B. 033398 12345 oder +49 33398 12345.")
            )
        return value

    def _number(self, form: StepForm, field: Field, _: Gettext, message: str) -> Decimal | None:
        text = field.data.strip() if isinstance(field.data, str) else ""
        if not text:
            if self.spec.required:
                raise self._missing(_)
            return None
        number = parse_number(text, form.language())
        if number is None:
            raise StopValidation(_(message, label=self._label(_)))
        if abs(number) >= _LARGEST_NUMBER:
            raise StopValidation(_("„%(label)s“ ist zu groß.", label=self._label(_)))
        return number

    def _range(self, number: Decimal, _: Gettext, shown: Callable[[Decimal], Localised]) -> None:
        low, high = self.spec.min_value, self.spec.max_value
        if (low is not None and number < low) or (high is not None and number > high):
            label = self._label(_)
            if low is not None and high is not None:
                message = _(
                    "„%(label)s“ muss zwischen %(min)s und %(max)s liegen.",
                    label=label,
                    min=shown(low),
                    max=shown(high),
                )
            elif low is not None:
                message = _("„%(label)s“ muss mindestens %(min)s sein.", label=label, min=shown(low))
            else:
                assert high is not None
                message = _("„%(label)s“ darf höchstens %(max)s sein.", label=label, max=shown(high))
            raise StopValidation(message)

    def _check_integer(self, form: StepForm, field: Field, _: Gettext) -> int | None:
        number = self._number(form, field, _, N_("Geben Sie bei „%(label)s“ eine ganze Zahl an, z. B. 3."))
        if number is None:
            return None
        if number != number.to_integral_value():
            raise StopValidation(
                _("Geben Sie bei „%(label)s“ eine ganze Zahl an, z. B. 3.", label=self._label(_))
            )
        self._range(number, _, lambda value: Localised(value, form.language, places=0))
        return int(number)

    def _check_decimal(self, form: StepForm, field: Field, _: Gettext) -> str | None:
        number = self._number(form, field, _, N_("Geben Sie bei „%(label)s“ eine Zahl an, z. B. 12,5."))
        if number is None:
            return None
        places = self.spec.places if self.spec.places is not None else 2
        if decimal_places(number) > places:
            raise StopValidation(
                _(
                    "„%(label)s“ darf höchstens %(places)d Nachkommastellen haben.",
                    label=self._label(_),
                    places=places,
                )
            )
        self._range(number, _, lambda value: Localised(value, form.language))
        return f"{number:f}"

    def _check_money(self, form: StepForm, field: Field, _: Gettext) -> str | None:
        number = self._number(
            form, field, _, N_("Geben Sie bei „%(label)s“ einen Betrag in Euro an, z. B. 12,50.")
        )
        if number is None:
            return None
        if decimal_places(number) > 2:
            raise StopValidation(_("Ein Betrag in Euro hat höchstens zwei Nachkommastellen (Cent)."))
        self._range(number, _, lambda value: Localised(value, form.language, currency="EUR"))
        return f"{number.quantize(Decimal('0.01')):f}"

    def _check_date(self, form: StepForm, field: Field, _: Gettext) -> str | None:
        assert isinstance(field, DateInputField)
        if field.is_empty():
            if self.spec.required:
                raise StopValidation(
                    _("Geben Sie „%(label)s“ an (Tag, Monat und Jahr).", label=self._label(_))
                )
            return None
        parts = field.raw_parts
        value = parse_date_parts(parts["day"], parts["month"], parts["year"])
        if value is None:
            raise StopValidation(
                _(
                    "„%(label)s“ muss ein gültiges Datum sein, mit vierstelligem Jahr, z. B. 27 3 2026.",
                    label=self._label(_),
                )
            )
        low = self.spec.min_date.resolve(form.today) if self.spec.min_date else None
        high = self.spec.max_date.resolve(form.today) if self.spec.max_date else None
        if low is not None and value < low:
            raise StopValidation(
                _(
                    "„%(label)s“ darf nicht vor dem %(date)s liegen.",
                    label=self._label(_),
                    date=Localised(low, form.language),
                )
            )
        if high is not None and value > high:
            raise StopValidation(
                _(
                    "„%(label)s“ darf nicht nach dem %(date)s liegen.",
                    label=self._label(_),
                    date=Localised(high, form.language),
                )
            )
        return value.isoformat()

    def _check_time(self, form: StepForm, field: Field, _: Gettext) -> str | None:
        text = field.data.strip() if isinstance(field.data, str) else ""
        if not text:
            if self.spec.required:
                raise self._missing(_)
            return None
        value = parse_time(text)
        if value is None:
            raise StopValidation(_("Geben Sie die Uhrzeit als Stunden:Minuten an, z. B. 14:30."))
        low, high = self.spec.min_time, self.spec.max_time
        if (low is not None and value < low) or (high is not None and value > high):
            raise StopValidation(
                _(
                    "„%(label)s“ muss zwischen %(min)s und %(max)s Uhr liegen.",
                    label=self._label(_),
                    min=Localised(low or dt.time(0, 0), form.language),
                    max=Localised(high or dt.time(23, 59), form.language),
                )
            )
        return value.strftime("%H:%M")

    def _choice(self, value: Any, _: Gettext) -> str:
        if not isinstance(value, str) or self.spec.option(value) is None:
            raise StopValidation(_("Wählen Sie eine der angebotenen Antworten aus."))
        return value

    def _check_select(self, form: StepForm, field: Field, _: Gettext) -> str | None:
        if field.data in (None, ""):
            if self.spec.required:
                raise self._missing(_)
            return None
        return self._choice(field.data, _)

    _check_radio = _check_select

    def _check_multicheckbox(self, form: StepForm, field: Field, _: Gettext) -> list[str] | None:
        chosen = [self._choice(value, _) for value in field.data or []]
        chosen = list(dict.fromkeys(chosen))
        if not chosen:
            if self.spec.required:
                raise self._missing(_)
            return None
        low, high = self.spec.min_choices, self.spec.max_choices
        if low is not None and len(chosen) < low:
            raise StopValidation(_("Wählen Sie mindestens %(min)d Antworten aus.", min=low))
        if high is not None and len(chosen) > high:
            raise StopValidation(_("Wählen Sie höchstens %(max)d Antworten aus.", max=high))
        order = [option.value for option in self.spec.options]
        return sorted(chosen, key=order.index)

    def _check_checkbox(self, form: StepForm, field: Field, _: Gettext) -> bool:
        if self.spec.required and field.data is not True:
            raise self._missing(_)
        return field.data is True

    _check_consent = _check_checkbox

    def _check_file(self, form: StepForm, field: Field, _: Gettext) -> Any:
        uploads = list(field.data or [])
        spec = self.spec
        if not uploads:
            earlier = form.existing_files(spec.name)
            if earlier:
                return earlier if spec.multiple else earlier[0]
            if spec.required:
                raise self._missing(_)
            return None
        if not spec.multiple and len(uploads) > 1:
            raise StopValidation(_("Laden Sie hier nur eine Datei hoch."))
        if spec.max_files is not None and len(uploads) > spec.max_files:
            raise StopValidation(_("Laden Sie höchstens %(max)d Dateien hoch.", max=spec.max_files))
        for upload in uploads:
            self._check_upload(upload, _)
        return uploads if spec.multiple else uploads[0]

    def _check_upload(self, upload: Any, _: Gettext) -> None:
        spec = self.spec
        name = str(getattr(upload, "filename", "") or "").replace("\\", "/").rsplit("/", 1)[-1]
        try:
            data = read_upload(upload)
        except (AttributeError, OSError, ValueError) as error:
            raise StopValidation(
                _("Die Datei „%(filename)s“ ließ sich nicht lesen.", filename=name)
            ) from error
        if not data:
            raise StopValidation(_("Die Datei „%(filename)s“ ist leer.", filename=name))
        if spec.max_size is not None and len(data) > spec.max_size:
            raise StopValidation(
                _(
                    "Die Datei „%(filename)s“ ist zu groß (%(size)s); erlaubt sind höchstens %(max)s.",
                    filename=name,
                    size=human_size(len(data)),
                    max=human_size(spec.max_size),
                )
            )
        media_type = detect_media_type(data, name)
        if media_type is None or not any(_accepts(accepted, media_type) for accepted in spec.accept):
            raise StopValidation(
                _(
                    "Die Datei „%(filename)s“ hat kein erlaubtes Format. Erlaubt sind: %(types)s.",
                    filename=name,
                    types=", ".join(dict.fromkeys(media_type_name(accepted) for accepted in spec.accept)),
                )
            )

    def _check_iban(self, form: StepForm, field: Field, _: Gettext) -> str | None:
        value = self._text(field, _)
        if value is None:
            return None
        try:
            return str(stdnum_iban.validate(_structure_first(value)))
        except InvalidChecksum:
            raise StopValidation(
                _("Die Prüfziffer der IBAN stimmt nicht. Bitte prüfen Sie die IBAN auf Tippfehler.")
            ) from None
        except (InvalidLength, InvalidFormat):
            if value[:2].isalpha():
                raise StopValidation(
                    _(
                        "Die IBAN hat nicht die richtige Länge oder Form; eine deutsche IBAN hat 22 Stellen "
                        "(DE und 20 Ziffern)."
                    )
                ) from None
            raise StopValidation(_("Geben Sie eine IBAN an, z. B. DE89 3704 0044 0532 0130 00.")) from None
        except InvalidComponent:
            raise StopValidation(
                _(
                    "Die IBAN beginnt nicht mit einem bekannten Ländercode wie DE, oder die "
                    "Bankangaben passen nicht."
                )
            ) from None
        except ValidationError:
            raise StopValidation(_("Geben Sie eine IBAN an, z. B. DE89 3704 0044 0532 0130 00.")) from None

    def _check_postal_code(self, form: StepForm, field: Field, _: Gettext) -> str | None:
        value = self._text(field, _)
        if value is not None and not _POSTAL_CODE.fullmatch(value):
            raise StopValidation(_("Geben Sie eine Postleitzahl mit fünf Ziffern an, z. B. 16356."))
        return value

    def _check_address(self, form: StepForm, field: Field, _: Gettext) -> dict[str, str] | None:
        assert isinstance(field, AddressField)
        if field.is_empty():
            if self.spec.required:
                raise StopValidation(
                    _(
                        "Geben Sie „%(label)s“ an (Straße, Hausnummer, Postleitzahl und Ort).",
                        label=self._label(_),
                    )
                )
            return None
        parts = field.raw_parts
        if not parts["street"]:
            raise StopValidation(_("Geben Sie die Straße an."))
        if not parts["house_number"]:
            raise StopValidation(_("Geben Sie die Hausnummer an."))
        if not _HOUSE_NUMBER.fullmatch(parts["house_number"]):
            raise StopValidation(_("Geben Sie die Hausnummer an, z. B. 12 oder 12a."))
        if not _POSTAL_CODE.fullmatch(parts["postal_code"]):
            raise StopValidation(_("Geben Sie eine Postleitzahl mit fünf Ziffern an, z. B. 16356."))
        if not parts["town"]:
            raise StopValidation(_("Geben Sie den Ort an."))
        if any(len(value) > 100 for value in parts.values()):
            raise StopValidation(_("Eine Angabe der Anschrift ist zu lang (höchstens 100 Zeichen)."))
        return dict(parts)

    def _check_help(self, form: StepForm, field: Field, _: Gettext) -> None:
        return None


def _structure_first(value: str) -> str:
    """The IBAN, after checking country and length: stdnum tests the checksum first, but a
    citizen who typed a digit too few should hear about the length, not the checksum."""
    number = compact_iban(value)
    # Only letters and digits have a check sum; anything else is refused as a format error.
    if len(number) >= 5 and number[:2].isalpha() and number.isascii() and number.isalnum():
        stdnum_iban.validate(number[:2] + stdnum_iban.calc_check_digits(number) + number[4:])
    return number


def _accepts(accepted: str, media_type: str) -> bool:
    if accepted.endswith("/*"):
        return media_type.startswith(accepted[:-1])
    if accepted == "text/csv":
        return media_type in ("text/csv", "text/plain")
    return accepted == media_type


class StepForm(Form):
    """Base class of every compiled step form; see the package docstring for its use.

    Construct it through ``bind_step_form``. After ``validate()``, ``visible_names``
    lists the fields that were shown and validated, and each of them has ``answer``.
    """

    field_specs: ClassVar[Mapping[str, FieldSpec]] = MappingProxyType({})
    step_spec: ClassVar[StepSpec]
    form_spec: ClassVar[FormSpec]
    translate: Gettext
    language: Language

    def __init__(
        self,
        formdata: Any = None,
        *,
        answers: Mapping[str, Any] | None = None,
        today: dt.date | None = None,
        **kwargs: Any,
    ) -> None:
        self.answers = dict(answers or {})
        self.today = today or dt.date.today()
        self.visible_names: list[str] = []
        self.validated = False
        super().__init__(formdata=formdata, **kwargs)

    def _earlier_answers(self) -> dict[str, Any]:
        own = set(self.field_specs)
        return {
            name: value
            for name, value in effective_answers(self.form_spec, self.answers).items()
            if name not in own
        }

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        """Validate the visible fields only; conditions see earlier steps and earlier fields here."""
        values = self._earlier_answers()
        success = True
        self.visible_names = []
        for fieldset in self.step_spec.fieldsets:
            fieldset_visible = is_visible(fieldset, values)
            for spec in fieldset.fields:
                field = self[spec.name]
                if not (fieldset_visible and is_visible(spec, values)):
                    field.errors = []
                    field.answer = None
                    continue
                self.visible_names.append(spec.name)
                extra = (extra_validators or {}).get(spec.name, ())
                if not field.validate(self, extra):
                    success = False
                    continue
                if spec.takes_answer and field.answer is not None and spec.type is not FieldType.FILE:
                    values[spec.name] = field.answer
        self.form_errors = []
        self.validated = success
        return success

    def layout(self) -> list[tuple[FieldsetSpec, list[Field]]]:
        """What to render: fieldsets with their fields, without parts hidden by earlier steps.

        A part whose show_if refers to a field of this step is included; the page shows it
        (progressive enhancement may hide it, see ``condition_of``) and validation ignores
        it when its condition is false.
        """
        values = self._earlier_answers()
        own = set(self.field_specs)

        def shown(condition: Condition | None) -> bool:
            return (
                condition is None or condition.field in own or condition.matches(values.get(condition.field))
            )

        return [
            (fieldset, [self[spec.name] for spec in fieldset.fields if shown(spec.show_if)])
            for fieldset in self.step_spec.fieldsets
            if shown(fieldset.show_if)
        ]

    def condition_of(self, name: str) -> Condition | None:
        """The show_if of the field or fieldset ``name`` if it depends on a field of this step."""
        for fieldset in self.step_spec.fieldsets:
            candidates = [fieldset, *fieldset.fields]
            for part in candidates:
                if part.name == name and part.show_if and part.show_if.field in self.field_specs:
                    return part.show_if
        return None

    def existing_files(self, name: str) -> list[dict[str, Any]]:
        """The uploads stored earlier for file field ``name`` (metadata dicts)."""
        value = self.answers.get(name)
        if isinstance(value, dict):
            return [value]
        if isinstance(value, list):
            return [item for item in value if isinstance(item, dict)]
        return []


def _unbound_field(spec: FieldSpec, gettext: Gettext) -> Any:
    validators = (SpecValidator(spec),)
    common: dict[str, Any] = {
        "label": gettext(spec.label) if spec.label else "",
        "description": gettext(spec.hint) if spec.hint else "",
        "validators": validators,
    }
    render_kw = {"autocomplete": spec.autocomplete} if spec.autocomplete else {}
    kind = spec.type
    if kind is FieldType.TEXTAREA:
        return TextAreaField(render_kw={"rows": spec.rows or 5}, **common)
    if kind in (FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY, FieldType.POSTAL_CODE):
        inputmode = "numeric" if kind in (FieldType.INTEGER, FieldType.POSTAL_CODE) else "decimal"
        return StringField(render_kw={**render_kw, "inputmode": inputmode}, **common)
    if kind in (FieldType.SELECT, FieldType.RADIO, FieldType.MULTICHECKBOX):
        choices = [SelectChoice(option.value, gettext(option.label)) for option in spec.options]
        if kind is FieldType.SELECT:
            placeholder = SelectChoice("", gettext("Bitte auswählen"))
            return ChoiceSelectField(choices=[placeholder, *choices], **common)
        if kind is FieldType.RADIO:
            return ChoiceRadioField(choices=choices, **common)
        return MultiCheckboxField(choices=choices, **common)
    if kind in (FieldType.CHECKBOX, FieldType.CONSENT):
        return BooleanField(**common)
    if kind is FieldType.FILE:
        accept = ",".join(spec.accept)
        return UploadField(multiple=spec.multiple, render_kw={"accept": accept}, **common)
    if kind is FieldType.DATE:
        labels = {part: gettext(label) for part, label, *_ in DateInputField.parts}
        return DateInputField(part_labels=labels, bday=spec.autocomplete == "bday", **common)
    if kind is FieldType.ADDRESS:
        labels = {part: gettext(label) for part, label, *_ in AddressField.parts}
        return AddressField(part_labels=labels, **common)
    if kind is FieldType.HELP:
        return HelpField(label=common["label"], description=common["description"])
    inputmode = {FieldType.EMAIL: "email", FieldType.PHONE: "tel"}.get(kind)
    if inputmode:
        render_kw["inputmode"] = inputmode
    if kind is FieldType.IBAN:
        render_kw.update({"autocomplete": "off", "spellcheck": "false"})
    return StringField(render_kw=render_kw, **common)


_cache: OrderedDict[tuple[str, str, Gettext, Language], type[StepForm]] = OrderedDict()
_cache_lock = threading.Lock()


def step_form_class(
    service: ServiceSpec, step_name: str, gettext: Gettext, language: Language = german
) -> type[StepForm]:
    """The WTForms class of one step, cached per (service.version, step_name, gettext, language).

    Raises KeyError if the service has no form or no step of that name. The class is
    language-neutral: with a lazy gettext, texts are translated when rendered, and the
    dates and times in messages are written for whatever ``language()`` answers then.
    """
    key = (service.version, step_name, gettext, language)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    form = service.form
    step = form.step(step_name) if form else None
    if form is None or step is None:
        raise KeyError(f"{service.slug} has no step {step_name!r}")
    specs = {spec.name: spec for spec in step.fields()}
    attributes: dict[str, Any] = {name: _unbound_field(spec, gettext) for name, spec in specs.items()}
    attributes.update(
        field_specs=MappingProxyType(specs),
        step_spec=step,
        form_spec=form,
        translate=staticmethod(gettext),
        language=staticmethod(language),
    )
    form_class = type(f"StepForm_{service.slug}_{step_name}".replace("-", "_"), (StepForm,), attributes)
    with _cache_lock:
        _cache[key] = form_class
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return form_class


def prefill_value(spec: FieldSpec, answer: Any, language: str = "de") -> Any:
    """A stored answer as the form field shows it again (numbers as the reader of ``language``
    types them, spaced IBAN): what the field reads back as the same answer."""
    if answer is None:
        return None
    if spec.type in (FieldType.DECIMAL, FieldType.MONEY):
        return format_number(answer, spec.places if spec.places is not None else 2, language)
    if spec.type is FieldType.INTEGER:
        return str(answer)
    if spec.type is FieldType.IBAN and isinstance(answer, str):
        return format_iban(compact_iban(answer))
    if spec.type is FieldType.FILE:
        return None
    return answer


def bind_step_form(
    form_class: type[StepForm],
    formdata: Any = None,
    answers: Mapping[str, Any] | None = None,
    today: dt.date | None = None,
) -> StepForm:
    """An instance of ``form_class``: bound to POSTed ``formdata``, or prefilled from ``answers``.

    ``formdata`` must contain the uploads as well (CombinedMultiDict of files and form).
    ``answers`` are the flat answers so far (all steps): they prefill the step when there
    is no formdata, feed show_if conditions on earlier answers and satisfy required file
    fields whose file was uploaded before.
    """
    answers = dict(answers or {})
    if formdata is not None:
        return form_class(formdata, answers=answers, today=today)
    language = form_class.language()
    data = {
        name: prefill_value(spec, answers.get(name), language)
        for name, spec in form_class.field_specs.items()
        if spec.takes_answer and name in answers
    }
    return form_class(None, answers=answers, today=today, data=data)
