"""Fees computed from answers: fixed amounts, amounts per chosen option, per count."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from app.formspec.conditions import effective_answers
from app.formspec.model import CHOICE_TYPES, FeeLine, FeeResult, FieldSpec, ServiceSpec

CENT = Decimal("0.01")


def answer_count(answer: Any) -> int:
    """How many units an answer counts for a ``per`` rule: a number, or the items of a list."""
    if answer is None or answer is False:
        return 0
    if isinstance(answer, bool):
        return 1
    if isinstance(answer, int):
        return max(answer, 0)
    if isinstance(answer, list | tuple):
        return len(answer)
    return 1


def _option_lines(field: FieldSpec, answer: Any) -> list[FeeLine]:
    chosen = answer if isinstance(answer, list) else [answer]
    lines = []
    for value in chosen:
        option = field.option(str(value))
        if option is not None and option.fee is not None:
            lines.append(FeeLine(label=option.label, amount=option.fee))
    return lines


def compute_fees(service: ServiceSpec, answers: Mapping[str, Any]) -> FeeResult:
    """The fees these answers cost: the service's rules, then the fees of chosen options.

    Only visible answers count. Amounts are Decimal EUR rounded to cents; a service
    without fees costs nothing (no lines, total 0.00).
    """
    lines: list[FeeLine] = []
    effective = effective_answers(service.form, answers) if service.form else {}
    if service.fees is not None:
        for rule in service.fees.rules:
            if rule.when is not None and not rule.when.matches(effective.get(rule.when.field)):
                continue
            amount = rule.amount
            if rule.per is not None:
                count = answer_count(effective.get(rule.per))
                if count == 0:
                    continue
                amount = rule.amount * count
            lines.append(FeeLine(label=rule.label, amount=amount.quantize(CENT)))
    if service.form is not None:
        for field in service.form.fields():
            if field.type in CHOICE_TYPES and field.name in effective:
                lines.extend(_option_lines(field, effective[field.name]))
    total = sum((line.amount for line in lines), Decimal("0")).quantize(CENT)
    return FeeResult(lines=tuple(lines), total=total)
