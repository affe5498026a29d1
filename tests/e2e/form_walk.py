"""Filling a service's form in the browser with valid answers derived from its definition.

Each visible field of a step gets an answer that its FieldSpec accepts (within date and
number bounds, the first option, a small file of an accepted type); optional fields stay
empty unless they are needed, so a walk exercises exactly what a form requires.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from e2e_support import check_accessible
from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from app.formspec.model import FieldSpec, FieldType, ServiceSpec, StepSpec

TEXT = "Beispielangabe"
STEP_URL = re.compile(r"/services/(?P<service>[a-z0-9-]+)/apply/(?P<step>[a-z0-9_-]+)")
ADDRESS = {"street": "Am Markt", "house_number": "1", "postal_code": "16356", "town": "Werneuchen"}


class UnfillableField(AssertionError):
    """The walker has no valid answer for a required field (say, one with a pattern)."""


@dataclass(frozen=True)
class Upload:
    """A file to put into a file input."""

    name: str
    media_type: str
    data: bytes

    def payload(self) -> dict[str, Any]:
        """The file as Playwright's set_input_files takes it."""
        return {"name": self.name, "mimeType": self.media_type, "buffer": self.data}


def _pdf() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, "Nachweis (Testdokument)")
    canvas.save()
    return buffer.getvalue()


def _image(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 80, 140)).save(buffer, kind)
    return buffer.getvalue()


def upload_for(spec: FieldSpec) -> Upload:
    """A small file of a type the field accepts (PDF preferred, else PNG or JPEG)."""
    accepted = {a.lower() for a in spec.accept}
    if not accepted or accepted & {"application/pdf", ".pdf"}:
        return Upload("nachweis.pdf", "application/pdf", _pdf())
    if accepted & {"image/png", ".png", "image/*"}:
        return Upload("foto.png", "image/png", _image("PNG"))
    if accepted & {"image/jpeg", ".jpg", ".jpeg"}:
        return Upload("foto.jpg", "image/jpeg", _image("JPEG"))
    raise UnfillableField(f"{spec.name}: no sample file for {sorted(accepted)}")


def _text(spec: FieldSpec, base: str = TEXT) -> str:
    if spec.pattern:
        raise UnfillableField(f"{spec.name}: required text with pattern {spec.pattern!r}")
    text = base
    while spec.min_length and len(text) < spec.min_length:
        text = f"{text} {base}"
    return text[: spec.max_length] if spec.max_length else text


def _number(spec: FieldSpec) -> str:
    value = Decimal(1)
    if spec.min_value is not None and value < spec.min_value:
        value = spec.min_value
    if spec.max_value is not None and value > spec.max_value:
        value = spec.max_value
    text = f"{value:f}"
    return text.replace(".", ",")


def date_for(spec: FieldSpec, today: dt.date) -> dt.date:
    """A date inside the field's bounds, away from their edges."""
    low = spec.min_date.resolve(today) if spec.min_date else None
    high = spec.max_date.resolve(today) if spec.max_date else None
    if low and high:
        return low + (high - low) / 2
    if high:
        return high - dt.timedelta(days=400)
    if low:
        return low + dt.timedelta(days=14)
    return today - dt.timedelta(days=30)


def _time(spec: FieldSpec) -> str:
    value = spec.min_time or dt.time(10, 0)
    return value.strftime("%H:%M")


def answer_for(spec: FieldSpec, today: dt.date) -> Any:
    """The browser input for a field: text, a mapping of part inputs, option values or a file."""
    kind = spec.type
    if kind in (FieldType.TEXT, FieldType.TEXTAREA):
        return _text(spec)
    if kind is FieldType.EMAIL:
        return "erika.mustermann@example.org"
    if kind is FieldType.PHONE:
        return "033398 8160"
    if kind in (FieldType.INTEGER, FieldType.DECIMAL, FieldType.MONEY):
        return _number(spec)
    if kind is FieldType.DATE:
        day = date_for(spec, today)
        return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}
    if kind is FieldType.TIME:
        return _time(spec)
    if kind is FieldType.IBAN:
        return "DE89 3704 0044 0532 0130 00"
    if kind is FieldType.POSTAL_CODE:
        return "16356"
    if kind is FieldType.ADDRESS:
        return dict(ADDRESS)
    if kind in (FieldType.SELECT, FieldType.RADIO):
        return spec.options[0].value
    if kind is FieldType.MULTICHECKBOX:
        return [option.value for option in spec.options[: max(spec.min_choices or 1, 1)]]
    if kind in (FieldType.CHECKBOX, FieldType.CONSENT):
        return True
    if kind is FieldType.FILE:
        return upload_for(spec)
    raise UnfillableField(f"{spec.name}: no answer for type {kind}")


def _needs_answer(spec: FieldSpec) -> bool:
    return spec.takes_answer and spec.required


def fill_step(page: Any, step: StepSpec, today: dt.date) -> None:
    """Answers every visible required field of the step on the page."""
    for spec in step.fields():
        if not _needs_answer(spec):
            continue
        group = page.locator(f"[data-field='{spec.name}']")
        if group.count() == 0 or not group.first.is_visible():
            continue
        answer = answer_for(spec, today)
        if isinstance(answer, dict):
            for part, value in answer.items():
                page.locator(f"[name='{spec.name}-{part}']").fill(value)
        elif spec.type is FieldType.SELECT:
            page.locator(f"select[name='{spec.name}']").select_option(answer)
        elif spec.type is FieldType.RADIO:
            page.locator(f"input[type=radio][name='{spec.name}'][value='{answer}']").check()
        elif spec.type is FieldType.MULTICHECKBOX:
            for value in answer:
                page.locator(f"input[type=checkbox][name='{spec.name}'][value='{value}']").check()
        elif spec.type in (FieldType.CHECKBOX, FieldType.CONSENT):
            page.locator(f"input[type=checkbox][name='{spec.name}']").check()
        elif isinstance(answer, Upload):
            page.locator(f"input[type=file][name='{spec.name}']").set_input_files(answer.payload())
        else:
            page.locator(f"[name='{spec.name}']").fill(answer)


def press_continue(page: Any) -> None:
    """Press the form's main button (Weiter), which has no name, unlike "save for later"."""
    with page.expect_navigation():
        page.locator("main form button[type=submit]:not([name])").click()


def walk_form(
    page: Any,
    spec: ServiceSpec,
    label: str,
    *,
    make_mistake: bool,
    check: Callable[[Any, str], None] = check_accessible,
) -> list[str]:
    """From the first step to the check page, ``check``-ing each step; returns the steps visited."""
    assert spec.form is not None
    today = dt.date.today()
    visited: list[str] = []
    for _ in range(len(spec.form.steps) + 1):
        match = STEP_URL.search(page.url)
        if match is None:
            break
        step = spec.form.step(match["step"])
        assert step is not None, f"{label}: unknown step in {page.url}"
        check(page, f"{label} step {step.name}")
        if make_mistake and not visited:
            press_continue(page)
            assert page.locator("[aria-invalid=true]").count(), f"{label}: no field marked invalid"
            if page.locator("html").get_attribute("lang") == "de":
                assert page.title().startswith("Fehler:"), f"{label}: the title does not say Fehler:"
            summary = page.locator("[data-error-summary]")
            assert summary.is_visible()
            assert page.evaluate("() => document.activeElement.hasAttribute('data-error-summary')")
            check(page, f"{label} step {step.name} with errors")
        visited.append(step.name)
        fill_step(page, step, today)
        press_continue(page)
    assert page.url.split("?")[0].endswith("/check"), f"{label}: ended at {page.url}, not the check page"
    return visited
