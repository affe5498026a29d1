"""An editor form with errors shows the summary that receives focus, and the script that moves it."""

from __future__ import annotations

from flask import Flask
from lxml import html

from .conftest import Place
from .helpers import url


def test_page_form_with_errors_brings_the_focus_script_along(app: Flask, place: Place) -> None:
    editor = place.client(app, place.editor)
    response = editor.post(url(place.commune, "pages/new"), data={"title": "", "action": "save"})
    assert response.status_code == 200
    tree = html.fromstring(response.get_data(as_text=True))
    summary = tree.xpath("//*[@data-error-summary]")
    assert len(summary) == 1 and summary[0].get("tabindex") == "-1"
    assert tree.xpath("//script/@src").count("/static/js/portal.js") == 1
