"""Answers: taking them from a validated step, cleaning them, checking them, summarising them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal

from app.formspec.compiler import StepForm
from app.formspec.conditions import effective_answers, is_visible, visible_steps
from app.formspec.model import (
    BOOLEAN_TYPES,
    FieldSpec,
    FieldType,
    ServiceSpec,
    SummaryFieldset,
    SummaryRow,
    SummarySection,
)
from app.formspec.texts import Gettext, untranslated
from app.formspec.values import as_date, format_iban, parse_time


def step_answers(
    service: ServiceSpec, step_name: str, form: StepForm, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """The answers of one validated step: visible fields only, JSON values (files aside).

    File fields hold the new upload (a list of them when ``multiple``) for the caller to
    store and replace with its metadata dict, or the stored metadata when nothing new was
    uploaded. A step that ``answers`` hide (e.g. reached by editing the URL) yields
    nothing. Raises ValueError if the form was not validated successfully.
    """
    if not form.validated:
        raise ValueError("step_answers needs a form whose validate() returned True")
    if service.form is None:
        return {}
    step = service.form.step(step_name)
    if step is None or step not in visible_steps(service.form, answers):
        return {}
    result: dict[str, Any] = {}
    for name in form.visible_names:
        spec = form.field_specs[name]
        value = getattr(form[name], "answer", None)
        if spec.takes_answer and value is not None:
            result[name] = value
    return result


def clean_answers(service: ServiceSpec, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers without those of parts hidden now and of keys the form does not know.

    Call it after merging a step's answers in (a Change may hide what was answered before).
    """
    if service.form is None:
        return {}
    return effective_answers(service.form, answers)


def _is_missing(spec: FieldSpec, value: Any) -> bool:
    if spec.type in BOOLEAN_TYPES:
        return spec.required and value is not True
    return spec.required and value in (None, "", [], {})


def missing_steps(service: ServiceSpec, answers: Mapping[str, Any]) -> list[str]:
    """The visible steps (by name, in order) with a required answer missing.

    The check page and submit refuse while this is not empty; it also catches steps
    skipped by editing the URL.
    """
    if service.form is None:
        return []
    effective = effective_answers(service.form, answers)
    missing = []
    for step in visible_steps(service.form, answers):
        for fieldset in step.fieldsets:
            if not is_visible(fieldset, effective):
                continue
            if any(
                spec.takes_answer
                and is_visible(spec, effective)
                and _is_missing(spec, effective.get(spec.name))
                for spec in fieldset.fields
            ):
                missing.append(step.name)
                break
    return missing


def display_text(spec: FieldSpec, value: Any, gettext: Gettext | None = None, locale: str = "de") -> str:
    """An answer as people read it, in ``locale`` (options and yes/no through gettext).

    A stored value that does not fit the field (an answer to an older form version) is
    shown as it is rather than failing the page or PDF.
    """
    _ = gettext or untranslated
    if value is None or value in ("", []):
        return str(_("Keine Angabe"))
    try:
        return _formatted(spec, value, _, locale)
    except (ArithmeticError, AttributeError, TypeError, ValueError):
        return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def _formatted(spec: FieldSpec, value: Any, _: Gettext, locale: str) -> str:
    kind = spec.type
    if kind in BOOLEAN_TYPES:
        return str(_("Ja") if value is True else _("Nein"))
    if kind in (FieldType.SELECT, FieldType.RADIO, FieldType.MULTICHECKBOX):
        chosen = value if isinstance(value, list) else [value]
        labels = []
        for item in chosen:
            option = spec.option(str(item))
            labels.append(str(_(option.label)) if option else str(item))
        return ", ".join(labels)
    if kind is FieldType.INTEGER:
        return str(format_decimal(int(value), locale=locale))
    if kind is FieldType.DECIMAL:
        return str(format_decimal(Decimal(str(value)), locale=locale, decimal_quantization=False))
    if kind is FieldType.MONEY:
        return str(format_currency(Decimal(str(value)), "EUR", locale=locale))
    if kind is FieldType.DATE:
        date = as_date(value)
        return str(format_date(date, format="medium", locale=locale)) if date else str(value)
    if kind is FieldType.TIME:
        time = parse_time(str(value))
        return str(format_time(time, format="short", locale=locale)) if time else str(value)
    if kind is FieldType.IBAN:
        return format_iban(str(value))
    if kind is FieldType.ADDRESS and isinstance(value, Mapping):
        return (
            f"{value.get('street', '')} {value.get('house_number', '')}, "
            f"{value.get('postal_code', '')} {value.get('town', '')}"
        )
    if kind is FieldType.FILE:
        files = value if isinstance(value, list) else [value]
        return ", ".join(
            str(item.get("filename", "")) if isinstance(item, Mapping) else str(item) for item in files
        )
    return str(value)


def summarise(
    service: ServiceSpec,
    answers: Mapping[str, Any],
    gettext: Gettext | None = None,
    locale: str = "de",
) -> list[SummarySection]:
    """The visible answers for display: step → fieldsets → rows, for every output alike.

    Visible questions left empty appear as "Keine Angabe"; help texts do not appear.
    Texts are plain strings: pass a non-lazy gettext (or none, for German).
    """
    if service.form is None:
        return []
    _ = gettext or untranslated
    effective = effective_answers(service.form, answers)
    sections = []
    for step in visible_steps(service.form, answers):
        fieldsets = []
        for fieldset in step.fieldsets:
            if not is_visible(fieldset, effective):
                continue
            rows = tuple(
                SummaryRow(
                    name=spec.name,
                    label=str(_(spec.label)),
                    text=display_text(spec, effective.get(spec.name), gettext, locale),
                    value=effective.get(spec.name),
                    type=spec.type,
                )
                for spec in fieldset.fields
                if spec.takes_answer and is_visible(spec, effective)
            )
            if rows:
                legend = str(_(fieldset.legend)) if fieldset.legend else None
                fieldsets.append(SummaryFieldset(name=fieldset.name, legend=legend, rows=rows))
        if fieldsets:
            sections.append(
                SummarySection(name=step.name, title=str(_(step.title)), fieldsets=tuple(fieldsets))
            )
    return sections
