"""Every shipped online service can be filled to the check-answers page in every demo commune
that offers it, through the web, with plausible answers to its required questions."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from submission_builders import png_bytes

from app.catalogue import demo as catalogue_demo
from app.catalogue.services import OfferedService, offered_services
from app.extensions import db
from app.formspec import FieldSpec, FieldType, StepSpec
from app.tenancy import demo as tenancy_demo
from app.tenancy.models import Commune

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ADDRESS = {"street": "Am Markt", "house_number": "5", "postal_code": "16356", "town": "Werneuchen"}


def _date_for(field: FieldSpec, today: dt.date) -> dt.date:
    low = field.min_date.resolve(today) if field.min_date else None
    high = field.max_date.resolve(today) if field.max_date else None
    if low and high:
        return low + (high - low) / 2
    return low or high or today


def _number_for(field: FieldSpec) -> Decimal:
    if field.min_value is not None:
        return field.min_value
    if field.max_value is not None and field.max_value < 1:
        return field.max_value
    return Decimal(1)


def _text_for(field: FieldSpec) -> str:
    text = "Beispielangabe"
    if field.min_length and len(text) < field.min_length:
        text = text.ljust(field.min_length, "x")
    return text[: field.max_length] if field.max_length else text


def plausible_answers(step: StepSpec, today: dt.date) -> dict[str, Any]:
    """Form data answering every required question of a step (optional ones left empty)."""
    data: dict[str, Any] = {}
    for field in step.fields():
        if not field.required or field.type is FieldType.HELP:
            continue
        kind = field.type
        if kind in (FieldType.TEXT, FieldType.TEXTAREA):
            data[field.name] = _text_for(field)
        elif kind is FieldType.EMAIL:
            data[field.name] = "erika@example.org"
        elif kind is FieldType.PHONE:
            data[field.name] = "033398 81600"
        elif kind is FieldType.INTEGER:
            data[field.name] = str(int(_number_for(field)))
        elif kind in (FieldType.DECIMAL, FieldType.MONEY):
            places = field.places if field.places is not None else 2
            data[field.name] = f"{_number_for(field):.{places}f}".replace(".", ",")
        elif kind is FieldType.DATE:
            day = _date_for(field, today)
            data |= {
                f"{field.name}-day": day.day,
                f"{field.name}-month": day.month,
                f"{field.name}-year": day.year,
            }
        elif kind is FieldType.TIME:
            data[field.name] = (field.min_time or dt.time(10, 0)).strftime("%H:%M")
        elif kind in (FieldType.SELECT, FieldType.RADIO):
            data[field.name] = field.options[0].value
        elif kind is FieldType.MULTICHECKBOX:
            data[field.name] = [option.value for option in field.options[: max(field.min_choices or 1, 1)]]
        elif kind in (FieldType.CHECKBOX, FieldType.CONSENT):
            data[field.name] = "y"
        elif kind is FieldType.IBAN:
            data[field.name] = "DE89 3704 0044 0532 0130 00"
        elif kind is FieldType.POSTAL_CODE:
            data[field.name] = "16356"
        elif kind is FieldType.ADDRESS:
            data |= {f"{field.name}-{part}": value for part, value in ADDRESS.items()}
        elif kind is FieldType.FILE:
            pdf = any(media_type in ("application/pdf", "application/*") for media_type in field.accept)
            data[field.name] = (
                io.BytesIO(PDF_BYTES if pdf else png_bytes(1)),
                "nachweis.pdf" if pdf else "foto.png",
            )
    return data


def walk_to_check(client: FlaskClient, service: OfferedService, base: str, today: dt.date) -> str:
    """Follow the flow from Start, answering each step it leads to; returns the check page."""
    assert service.spec.form is not None
    target = client.get(f"{base}/apply").headers["Location"]
    for _ in range(len(service.spec.form.steps) + 1):
        if target.endswith("/check"):
            response = client.get(target)
            assert response.status_code == 200
            return response.get_data(as_text=True)
        step = service.spec.form.step(target.rsplit("/", 1)[1])
        assert step is not None, target
        response = client.post(
            target, data=plausible_answers(step, today), content_type="multipart/form-data"
        )
        errors = re.findall(r'<li><a href="#[^"]+">([^<]+)</a></li>', response.get_data(as_text=True))
        assert response.status_code == 302, (target, errors)
        target = response.headers["Location"]
    pytest.fail(f"{base}: no check page after every step")


@pytest.fixture
def demo_communes(app: Flask) -> list[Commune]:
    tenancy_demo.load_demo()
    catalogue_demo.load_demo()
    return list(db.session.scalars(select(Commune).order_by(Commune.slug)))


def test_every_demo_online_service_can_be_filled_to_check(app: Flask, demo_communes: list[Commune]) -> None:
    today = dt.date.today()
    walked = set()
    for commune in demo_communes:
        for service in offered_services(commune):
            if not service.online:
                continue
            client = app.test_client()
            page = walk_to_check(client, service, f"/{commune.slug}/services/{service.slug}", today)
            assert "<h1>Ihre Angaben prüfen</h1>" in page
            walked.add(service.slug)
    assert len(walked) >= 14
