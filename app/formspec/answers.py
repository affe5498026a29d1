"""Answers: taking them from a validated step, cleaning them, checking them, summarising them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.formspec.compiler import StepForm
from app.formspec.model import ServiceSpec, SummarySection


def step_answers(
    service: ServiceSpec, step_name: str, form: StepForm, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """The JSON-serialisable answers of one validated step (visible fields only)."""
    raise NotImplementedError


def clean_answers(service: ServiceSpec, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers without those of parts hidden now and of keys the form does not know."""
    raise NotImplementedError


def missing_steps(service: ServiceSpec, answers: Mapping[str, Any]) -> list[str]:
    """The visible steps (by name, in order) with a required answer missing."""
    raise NotImplementedError


def summarise(
    service: ServiceSpec,
    answers: Mapping[str, Any],
    gettext: Callable[..., Any] | None = None,
    locale: str = "de",
) -> list[SummarySection]:
    """The visible answers for display: step → fieldsets → rows."""
    raise NotImplementedError
