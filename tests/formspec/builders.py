"""Helpers for the formspec tests: definitions from YAML text, bound step forms, uploads."""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from app.formspec import InvalidSpec, ServiceSpec, StepForm, bind_step_form, step_form_class
from app.formspec.parser import parse_service
from app.formspec.texts import untranslated
from app.formspec.yamlsource import read_yaml

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
TODAY = dt.date(2026, 3, 15)

SERVICE_HEAD = """\
title: Testdienst
short_text: Ein Dienst für Tests.
office_kind: buergeramt
topic: Test
"""

CONSENT_STEP = """\
    - name: abschluss
      title: Datenschutz
      fieldsets:
        - name: datenschutz
          fields:
            - name: datenschutz
              type: consent
              label: Ich habe die Datenschutzhinweise zur Kenntnis genommen.
"""

PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def parse(text: str, slug: str = "testdienst", file: str = "forms/catalogue/testdienst.yaml") -> ServiceSpec:
    """A service from YAML text; InvalidSpec with every mistake otherwise."""
    data, errors = read_yaml(dedent(text), file)
    if errors:
        raise InvalidSpec(errors)
    service, errors = parse_service(data, slug, file)
    if service is None:
        raise InvalidSpec(errors)
    return service


def form_yaml(fields: str, *, head: str = SERVICE_HEAD, extra_steps: str = "") -> str:
    """A service whose first step holds ``fields`` (YAML list items at any indentation)."""
    body = textwrap.indent(dedent(fields).rstrip("\n") + "\n", " " * 12)
    return (
        head
        + "form:\n  steps:\n    - name: angaben\n      title: Angaben\n      fieldsets:\n"
        + "        - name: angaben\n          fields:\n"
        + body
        + textwrap.indent(dedent(extra_steps), "    ")
        + CONSENT_STEP
    )


def service_with(fields: str, **kwargs: Any) -> ServiceSpec:
    return parse(form_yaml(fields, **kwargs))


def bound(
    service: ServiceSpec,
    step: str,
    data: Mapping[str, Any] | MultiDict[str, Any] | None,
    answers: Mapping[str, Any] | None = None,
    today: dt.date = TODAY,
) -> StepForm:
    """The step form of ``service`` bound to POSTed ``data`` (None: prefilled from answers)."""
    form_class = step_form_class(service, step, untranslated)
    formdata = data if data is None or isinstance(data, MultiDict) else MultiDict(data)
    return bind_step_form(form_class, formdata, answers or {}, today=today)


def upload(data: bytes, filename: str = "datei.pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=filename)


def errors_of(form: StepForm) -> dict[str, list[str]]:
    return {
        name: [str(message) for message in field.errors]
        for name, field in form._fields.items()
        if field.errors
    }
