"""Random junk POSTed to every step of every shipped online form never causes a server error.

The shipped forms (forms/, with the communes' overrides) are served by a commune that
offers them all. To let the junk reach every step, not just the first, the step gate
(``first_incomplete_step``) is opened for these tests: each visible step accepts a POST
whatever came before. Whatever junk happens to validate is stored and shown again.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from factories import make_commune, make_office
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from submission_builders import offer

from app.catalogue.services import get_catalogue
from app.config import PROJECT_ROOT
from app.formspec import FieldType, ServiceSpec, load_catalogue

COMPOUND_PARTS = {
    FieldType.DATE: ("day", "month", "year"),
    FieldType.ADDRESS: ("street", "house_number", "postal_code", "town"),
}


def shipped_online_forms() -> list[tuple[str, str]]:
    """(commune, service) pairs: every catalogue form, and every commune's own version of one."""
    catalogue = load_catalogue(PROJECT_ROOT / "forms")
    pairs = [("fuzzstadt", slug) for slug, spec in sorted(catalogue.services.items()) if spec.form]
    for commune, services in sorted(catalogue.commune_services.items()):
        pairs.extend((commune, slug) for slug, spec in sorted(services.items()) if spec.form)
    return pairs


text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
junk_value = st.one_of(
    text,
    st.sampled_from(["", "0", "-1", "1e309", "31.02.2024", "DE00 0000", "y", "true", "<script>", "\x00"]),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)


@st.composite
def junk_for_step(draw: st.DrawFn, spec: ServiceSpec, step_name: str) -> dict[str, Any]:
    step = spec.form.step(step_name)
    data: dict[str, Any] = {}
    for field in step.fields():
        if not draw(st.booleans()):
            continue
        if field.type is FieldType.FILE:
            payload = draw(st.one_of(st.binary(max_size=64), st.just(b"%PDF-1.4\n%junk"), st.just(b"")))
            data[field.name] = (io.BytesIO(payload), draw(text) or "datei.bin")
        elif field.type in COMPOUND_PARTS:
            for part in COMPOUND_PARTS[field.type]:
                data[f"{field.name}-{part}"] = draw(junk_value)
        elif field.options:
            values = [option.value for option in field.options]
            choice = st.one_of(st.sampled_from(values), junk_value)
            data[field.name] = draw(st.lists(choice, max_size=3)) if draw(st.booleans()) else draw(choice)
        else:
            data[field.name] = draw(junk_value)
    data.update(draw(st.dictionaries(text.filter(bool), junk_value, max_size=3)))
    if draw(st.booleans()):
        data["action"] = draw(st.sampled_from(["save", "weiter", ""]))
    return data


@pytest.mark.parametrize(("commune_slug", "service_slug"), shipped_online_forms())
def test_junk_posted_to_every_step_never_causes_a_server_error(
    app: Flask, monkeypatch: pytest.MonkeyPatch, commune_slug: str, service_slug: str
) -> None:
    spec = get_catalogue().get(service_slug, commune_slug)
    commune = make_commune(commune_slug)
    office = make_office(commune, kind=spec.office_kind)
    offer(commune, service_slug, office)
    monkeypatch.setattr("app.submissions.flow.first_incomplete_step", lambda service, draft: None)
    base = f"/{commune_slug}/services/{service_slug}"
    steps = [step.name for step in spec.form.steps]

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.tuples(*(junk_for_step(spec, name) for name in steps)), st.sampled_from(["", "?return=check"]))
    def walk(junk: tuple[dict[str, Any], ...], query: str) -> None:
        client = app.test_client()
        for name, data in zip(steps, junk, strict=True):
            response = client.post(
                f"{base}/apply/{name}{query}", data=data, content_type="multipart/form-data"
            )
            assert response.status_code < 500, (name, data, response.status_code)
            if response.status_code in (302, 303):
                # Stored: the step must render the stored junk again.
                assert client.get(f"{base}/apply/{name}").status_code < 500
        assert client.get(f"{base}/check").status_code < 500

    walk()
