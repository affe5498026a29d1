"""Property-based tests over EVERY shipped form.

Valid answers, generated field by field from the specs and posted step by step through the
compiled WTForms classes, always pass, leave no step missing and validate against the
service's data schema. Random junk never raises anything but validation errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from werkzeug.datastructures import FileStorage, MultiDict

from app.formspec import (
    FieldSpec,
    FieldType,
    ServiceSpec,
    clean_answers,
    compute_fees,
    data_schema,
    inspect_upload,
    load_catalogue,
    missing_steps,
    step_answers,
    summarise,
    visible_steps,
)

from .builders import FORMS_DIR, PDF_BYTES, PNG_BYTES, TODAY, bound, errors_of, upload

_CATALOGUE = load_catalogue(FORMS_DIR)
SERVICES = [
    *(service for service in _CATALOGUE.services.values() if service.form),
    *(
        service
        for commune in _CATALOGUE.commune_services
        for service in _CATALOGUE.commune_services[commune].values()
        if service.form
    ),
]
SERVICE_IDS = [f"{service.commune or 'catalogue'}/{service.slug}" for service in SERVICES]

SAMPLE_FILES = {
    "application/pdf": PDF_BYTES,
    "image/png": PNG_BYTES,
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\x00" * 32
    + b"\xff\xd9",
    "text/plain": "Grüße aus dem Rathaus\n".encode(),
}
PLAIN_TEXT = st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn"))


def _text(spec: FieldSpec) -> st.SearchStrategy[str]:
    low = spec.min_length or 1
    high = min(spec.max_length or 60, max(low, 60))
    if spec.pattern:
        return st.from_regex(spec.pattern, fullmatch=True).filter(
            lambda s: s == s.strip() and low <= len(s) <= high
        )
    return st.text(PLAIN_TEXT, min_size=low, max_size=high).map(str.strip).filter(lambda s: len(s) >= low)


def _german(number: Decimal) -> str:
    return f"{number:f}".replace(".", ",")


def _file_strategy(spec: FieldSpec) -> st.SearchStrategy[list[FileStorage]]:
    kinds = [
        kind
        for kind in spec.accept
        if kind in SAMPLE_FILES and len(SAMPLE_FILES[kind]) <= (spec.max_size or 0)
    ]
    assert kinds, f"no sample file for {spec.name}: {spec.accept}"
    one = st.sampled_from(kinds).map(
        lambda kind: upload(SAMPLE_FILES[kind], f"anlage.{kind.rsplit('/')[-1]}")
    )
    most = spec.max_files or 1 if spec.multiple else 1
    return st.lists(one, min_size=1 if spec.required else 0, max_size=most)


def _iban() -> st.SearchStrategy[str]:
    def build(digits: str, spaced: bool) -> str:
        number = "DE00" + digits
        number = number[:2] + stdnum_iban.calc_check_digits(number) + number[4:]
        return stdnum_iban.format(number) if spaced else number.lower()

    return st.builds(build, st.from_regex(r"[0-9]{18}", fullmatch=True), st.booleans())


def field_values(spec: FieldSpec) -> st.SearchStrategy[list[tuple[str, Any]]]:
    """Form data (name, value pairs) of a valid answer for one field."""
    name, kind = spec.name, spec.type

    def single(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[list[tuple[str, Any]]]:
        pairs = strategy.map(lambda value: [(name, value)])
        return pairs if spec.required else st.one_of(st.just([]), pairs)

    if kind in (FieldType.TEXT, FieldType.TEXTAREA):
        return single(_text(spec))
    if kind is FieldType.EMAIL:
        return single(st.emails().filter(lambda email: len(email) <= (spec.max_length or 254)))
    if kind is FieldType.PHONE:
        return single(st.from_regex(r"\+?[0-9]{5,15}", fullmatch=True))
    if kind is FieldType.INTEGER:
        low = int(spec.min_value) if spec.min_value is not None else -1000
        high = int(spec.max_value) if spec.max_value is not None else 1000
        return single(st.integers(low, high).map(str))
    if kind in (FieldType.DECIMAL, FieldType.MONEY):
        places = spec.places if spec.places is not None else 2
        numbers = st.decimals(
            min_value=spec.min_value if spec.min_value is not None else Decimal(-1000),
            max_value=spec.max_value if spec.max_value is not None else Decimal(100000),
            places=places,
            allow_nan=False,
            allow_infinity=False,
        )
        return single(numbers.map(_german))
    if kind is FieldType.DATE:
        low = spec.min_date.resolve(TODAY) if spec.min_date else dt.date(1900, 1, 1)
        high = spec.max_date.resolve(TODAY) if spec.max_date else dt.date(2100, 1, 1)
        dates = st.dates(low, high).map(
            lambda day: [
                (f"{name}-day", str(day.day)),
                (f"{name}-month", f"{day.month:02}"),
                (f"{name}-year", str(day.year)),
            ]
        )
        return dates if spec.required else st.one_of(st.just([]), dates)
    if kind is FieldType.TIME:
        times = st.times(spec.min_time or dt.time(0, 0), spec.max_time or dt.time(23, 59))
        return single(times.map(lambda value: value.strftime("%H:%M")))
    if kind in (FieldType.SELECT, FieldType.RADIO):
        return single(st.sampled_from([option.value for option in spec.options]))
    if kind is FieldType.MULTICHECKBOX:
        values = [option.value for option in spec.options]
        low = max(spec.min_choices or 0, 1 if spec.required else 0)
        chosen = st.lists(
            st.sampled_from(values), min_size=low, max_size=spec.max_choices or len(values), unique=True
        )
        return chosen.map(lambda items: [(name, value) for value in items])
    if kind is FieldType.CHECKBOX:
        return st.just([(name, "y")]) if spec.required else st.sampled_from([[], [(name, "y")]])
    if kind is FieldType.CONSENT:
        return st.just([(name, "y")])
    if kind is FieldType.FILE:
        return _file_strategy(spec).map(lambda files: [(name, item) for item in files])
    if kind is FieldType.IBAN:
        return single(_iban())
    if kind is FieldType.POSTAL_CODE:
        return single(st.from_regex(r"[0-9]{5}", fullmatch=True))
    if kind is FieldType.ADDRESS:
        parts = st.tuples(
            st.text(PLAIN_TEXT, min_size=1, max_size=40).map(str.strip).filter(bool),
            st.from_regex(r"[0-9]{1,4}[a-z]?", fullmatch=True),
            st.from_regex(r"[0-9]{5}", fullmatch=True),
            st.text(PLAIN_TEXT, min_size=1, max_size=40).map(str.strip).filter(bool),
        ).map(lambda p: [(f"{name}-{key}", value) for key, value in zip(AddressKeys, p, strict=True)])
        return parts if spec.required else st.one_of(st.just([]), parts)
    return st.just([])


AddressKeys = ("street", "house_number", "postal_code", "town")


def _stored(new: dict[str, Any]) -> dict[str, Any]:
    """Replace uploads by the metadata the caller would store (as the web layer does)."""

    def metadata(item: Any) -> Any:
        info = inspect_upload(item)
        return info.metadata(hashlib.sha256(info.data).hexdigest()[:16])

    result = {}
    for key, value in new.items():
        if isinstance(value, FileStorage):
            result[key] = metadata(value)
        elif isinstance(value, list) and value and isinstance(value[0], FileStorage):
            result[key] = [metadata(item) for item in value]
        else:
            result[key] = value
    return result


def walk(service: ServiceSpec, draw: Any) -> dict[str, Any]:
    """Fill every visible step with generated valid data; the final answers."""
    answers: dict[str, Any] = {}
    done: set[str] = set()
    while True:
        pending = [step for step in visible_steps(service.form, answers) if step.name not in done]
        if not pending:
            return answers
        step = pending[0]
        pairs: list[tuple[str, Any]] = []
        for spec in step.fields():
            pairs.extend(draw(field_values(spec), label=spec.name))
        form = bound(service, step.name, MultiDict(pairs), answers=answers)
        assert form.validate(), (step.name, errors_of(form), pairs)
        new = _stored(step_answers(service, step.name, form, answers))
        own = {spec.name for spec in step.fields()}
        answers = clean_answers(service, {**{k: v for k, v in answers.items() if k not in own}, **new})
        done.add(step.name)


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(data=st.data())
def test_generated_valid_answers_pass_and_match_the_data_schema(
    service: ServiceSpec, data: st.DataObject
) -> None:
    answers = walk(service, data.draw)
    assert answers["datenschutz"] is True
    assert missing_steps(service, answers) == []
    json.dumps(answers)
    validator = jsonschema.Draft202012Validator(
        data_schema(service), format_checker=jsonschema.FormatChecker()
    )
    errors = [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(answers)]
    assert errors == [], answers
    sections = summarise(service, answers)
    assert {
        row.name for section in sections for fieldset in section.fieldsets for row in fieldset.rows
    } >= set(answers)
    assert compute_fees(service, answers).total >= 0


JUNK_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
JUNK_VALUE = st.one_of(
    JUNK_TEXT,
    st.builds(
        lambda data, name: FileStorage(stream=io.BytesIO(data), filename=name),
        st.binary(max_size=2048),
        JUNK_TEXT,
    ),
)


def _junk_keys(service: ServiceSpec, step_name: str) -> st.SearchStrategy[str]:
    names = []
    for spec in service.form.step(step_name).fields():
        names.append(spec.name)
        names.extend(f"{spec.name}-{part}" for part in ("day", "month", "year", *AddressKeys))
    return st.one_of(st.sampled_from(names), JUNK_TEXT)


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_junk_never_raises_anything_but_validation_errors(
    service: ServiceSpec, data: st.DataObject
) -> None:
    step = data.draw(st.sampled_from(service.form.steps), label="step")
    pairs = data.draw(
        st.lists(st.tuples(_junk_keys(service, step.name), JUNK_VALUE), max_size=40), label="post"
    )
    junk_answers = data.draw(
        st.dictionaries(
            st.sampled_from([spec.name for spec in service.form.fields()]), JUNK_TEXT, max_size=5
        ),
        label="answers",
    )
    form = bound(service, step.name, MultiDict(pairs), answers=junk_answers)
    if form.validate():
        new = _stored(step_answers(service, step.name, form, junk_answers))
        json.dumps(new)
    else:
        assert all(isinstance(str(message), str) for field in form for message in field.errors)
    cleaned = clean_answers(service, junk_answers)
    missing_steps(service, cleaned)
    compute_fees(service, cleaned)
    summarise(service, cleaned)
