"""Evaluating ``show_if``: which steps, fieldsets and fields the citizen sees.

Conditions only look at answers of earlier fields (the linter guarantees it). An answer
of a part that is hidden counts as no answer, so conditions chain: a field that depends
on a hidden field is hidden too (unless it asks ``is_false``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.formspec.model import FieldsetSpec, FieldSpec, FormSpec, StepSpec

Part = StepSpec | FieldsetSpec | FieldSpec


def is_visible(part: Part, answers: Mapping[str, Any]) -> bool:
    """Whether the part's own ``show_if`` holds for ``answers`` (True without a show_if).

    Only the part's own condition is checked; use ``visible_fields`` for the effect of the
    enclosing step and fieldset.
    """
    condition = part.show_if
    return condition is None or condition.matches(answers.get(condition.field))


def effective_answers(form: FormSpec, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers of the parts visible under ``answers``, in document order.

    Walking in order makes a hidden field's answer invisible to the conditions after it.
    """
    effective: dict[str, Any] = {}
    for step in form.steps:
        if not is_visible(step, effective):
            continue
        for fieldset in step.fieldsets:
            if not is_visible(fieldset, effective):
                continue
            for field in fieldset.fields:
                if field.name in answers and is_visible(field, effective):
                    effective[field.name] = answers[field.name]
    return effective


def visible_steps(form: FormSpec, answers: Mapping[str, Any]) -> list[StepSpec]:
    """The steps the citizen walks for these answers, in order."""
    effective = effective_answers(form, answers)
    return [step for step in form.steps if is_visible(step, effective)]


def visible_fields(form: FormSpec, answers: Mapping[str, Any]) -> list[FieldSpec]:
    """The fields shown for these answers (step, fieldset and field visible), in order."""
    effective = effective_answers(form, answers)
    return [
        field
        for step in form.steps
        if is_visible(step, effective)
        for fieldset in step.fieldsets
        if is_visible(fieldset, effective)
        for field in fieldset.fields
        if is_visible(field, effective)
    ]
