"""The error summary receives focus on every form (WCAG 3.3.1, GOV.UK pattern).

static/js/portal.js moves the focus; the summary macro brings the script along, so
every page that shows a summary loads it, and pages without one (content, the API
reference) stay free of scripts.
"""

from __future__ import annotations

from pathlib import Path

from factories import make_association, make_commune
from flask import Flask
from flask.testing import FlaskClient
from lxml import html

from app.content.editing.required import ensure_required_pages
from app.extensions import db

SCRIPT = "/static/js/portal.js"
PORTAL_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "portal.js"


def _scripts(tree: html.HtmlElement) -> list[str]:
    return [script.get("src") or "(inline)" for script in tree.xpath("//script")]


def test_portal_js_focuses_the_element_the_summary_marks() -> None:
    source = PORTAL_JS.read_text(encoding="utf-8")
    assert 'querySelector("[data-error-summary]")' in source and ".focus()" in source


def test_failed_staff_login_shows_a_focusable_summary_with_its_script(client: FlaskClient) -> None:
    response = client.post("/staff/login", data={"email": "", "password": ""})
    assert response.status_code == 200
    tree = html.fromstring(response.get_data(as_text=True))
    summaries = tree.xpath("//*[@data-error-summary]")
    assert len(summaries) == 1
    summary = summaries[0]
    assert summary.get("tabindex") == "-1" and summary.get("role") == "alert"
    assert tree.xpath(f"//*[@id='{summary.get('aria-labelledby')}']")
    assert summary.xpath(".//a[@href='#email']")
    assert _scripts(tree) == [SCRIPT]
    assert tree.findtext(".//title").startswith("Fehler:")


def test_staff_login_without_errors_loads_no_script(client: FlaskClient) -> None:
    tree = html.fromstring(client.get("/staff/login").get_data(as_text=True))
    assert not tree.xpath("//*[@data-error-summary]") and _scripts(tree) == []


def test_content_pages_and_the_api_reference_stay_script_free(client: FlaskClient, app: Flask) -> None:
    make_association(email="info@dkb.example")
    commune = make_commune("werneuchen", name="Werneuchen")
    ensure_required_pages(commune)
    db.session.commit()
    for url in (
        "/", "/search?q=Kita", "/barrierefreiheit", "/leichte-sprache", "/werneuchen/",
        "/werneuchen/barrierefreiheit", "/werneuchen/contact", "/werneuchen/search?q=Kita",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "<script" not in response.get_data(as_text=True), url
    docs = [rule.rule for rule in app.url_map.iter_rules() if rule.endpoint == "api.docs"]
    assert docs, "the API reference moved: name its endpoint here"
    assert "<script" not in client.get(docs[0]).get_data(as_text=True)
