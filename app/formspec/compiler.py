"""Compiling a step of a FormSpec to a WTForms class (built once, cached)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from wtforms import Form

from app.formspec.model import ServiceSpec


class StepForm(Form):
    """Base class of every compiled step form."""


def step_form_class(service: ServiceSpec, step_name: str, gettext: Callable[..., Any]) -> type[StepForm]:
    """The WTForms class of one step, cached per (service.version, step_name, gettext)."""
    raise NotImplementedError


def bind_step_form(
    form_class: type[StepForm],
    formdata: Any = None,
    answers: Mapping[str, Any] | None = None,
    today: dt.date | None = None,
) -> StepForm:
    """An instance of ``form_class`` bound to POSTed data (or prefilled from ``answers``)."""
    raise NotImplementedError
