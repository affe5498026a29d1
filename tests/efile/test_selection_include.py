"""The inbox's selection hook: the form and row checkboxes of efile/_selection.html post the ticked
references with a CSRF token to the selection export."""

from __future__ import annotations

import re

import pytest
from flask import Flask, render_template_string, session
from flask.testing import FlaskClient
from staff.builders import log_in
from submission_builders import Place, make_submission

from app.formspec import ServiceSpec
from app.staff.models import User

from .builders import read_zip

TEMPLATE = (
    '{% from "efile/_selection.html" import selection_form, selection_checkbox %}'
    "{{ selection_form(commune) }}{% for r in references %}{{ selection_checkbox(r) }}{% endfor %}"
)


def test_selection_form_posts_ticked_references_with_a_csrf_token(
    app: Flask,
    client: FlaskClient,
    service: ServiceSpec,
    place: Place,
    clerk: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = make_submission(service, place.commune, place.office)
    second = make_submission(service, place.commune, place.office)
    log_in(client, clerk)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client.get(f"/staff/{place.commune.slug}/inbox")  # opens the session the token is bound to
    # Render in a request that carries the client's session, so the token is valid for it.
    with app.test_request_context():
        with client.session_transaction() as stored:
            session.update(stored)
        html = render_template_string(
            TEMPLATE, commune=place.commune, references=[first.reference, second.reference]
        )
    action = re.search(r'<form id="efile-selection" method="post" action="([^"]+)"', html)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert action and token
    boxes = re.findall(r'form="efile-selection" name="reference" value="([^"]+)"', html)
    assert boxes == [first.reference, second.reference]
    response = client.post(action.group(1), data={"csrf_token": token.group(1), "reference": boxes})
    assert response.status_code == 200, response.text
    assert len(read_zip(response.data)) == 1 + 2 * 2
