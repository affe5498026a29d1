"""The association's accessibility statement (/barrierefreiheit) and its page in Leichte
Sprache (/leichte-sprache): in four languages, with the contacts BITV 2.0 asks for, and
under paths no commune can take."""

from __future__ import annotations

import re

import pytest
from factories import make_association, make_commune
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, format_date, gettext, refresh
from lxml import html

from app.content.editing.required import ensure_required_pages
from app.extensions import db
from app.portal.accessibility import ENFORCEMENT_BODY, STATEMENT_DATE
from app.tenancy.models import RESERVED_SLUGS
from app.tenancy.services import is_valid_commune_slug

LANGUAGES = ["de", "en", "pl", "dsb"]
#: A sentence ends at ., ! or ? followed by a space (or the end of the line).
SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def _tree(client: FlaskClient, url: str) -> html.HtmlElement:
    refresh()
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return html.fromstring(response.get_data(as_text=True))


def _translated(app: Flask, lang: str, msgid: str) -> str:
    with app.test_request_context(), force_locale(lang):
        return gettext(msgid)


@pytest.fixture
def association(app: Flask) -> None:
    make_association(
        email="barrierefrei@dkb.example", phone="0331 123 45-0", street="Am Markt 1",
        postal_code="14467", town="Potsdam",
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_statement_is_served_in_every_language(
    client: FlaskClient, app: Flask, association: None, lang: str
) -> None:
    tree = _tree(client, f"/barrierefreiheit?lang={lang}")
    assert tree.get("lang") == lang
    heading = _translated(app, lang, "Erklärung zur Barrierefreiheit")
    if lang != "de":
        assert heading != "Erklärung zur Barrierefreiheit", f"{lang}: the heading is not translated"
    assert [h.text_content().strip() for h in tree.xpath("//main//h1")] == [heading]
    sections = [h.text_content().strip() for h in tree.xpath("//main//h2")]
    for msgid in ("Stand der Vereinbarkeit mit den Anforderungen", "Nicht barrierefreie Inhalte",
                  "Barrieren melden: Kontakt", "Durchsetzungsverfahren"):
        assert _translated(app, lang, msgid) in sections


@pytest.mark.parametrize("lang", LANGUAGES)
def test_statement_names_date_feedback_contact_and_enforcement_body(
    client: FlaskClient, app: Flask, association: None, lang: str
) -> None:
    tree = _tree(client, f"/barrierefreiheit?lang={lang}")
    text = " ".join(tree.xpath("//main")[0].text_content().split())
    assert "WCAG" in text and "2.1" in text and "BITV 2.0" in text
    with app.test_request_context(), force_locale(lang):
        assert format_date(STATEMENT_DATE, "long") in text
    links = tree.xpath("//main//a/@href")
    assert "mailto:barrierefrei@dkb.example" in links
    assert "tel:033112345-0" in links
    assert "Am Markt 1" in text and "14467 Potsdam" in text
    assert f"mailto:{ENFORCEMENT_BODY.email}" in links
    assert ENFORCEMENT_BODY.website in links
    assert ENFORCEMENT_BODY.name in text and "Brandenburg" in text


def test_statement_without_an_association_record_still_renders(client: FlaskClient) -> None:
    tree = _tree(client, "/barrierefreiheit")
    assert f"mailto:{ENFORCEMENT_BODY.email}" in tree.xpath("//main//a/@href")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_easy_language_page_has_one_statement_per_line(
    client: FlaskClient, app: Flask, association: None, lang: str
) -> None:
    tree = _tree(client, f"/leichte-sprache?lang={lang}")
    assert tree.get("lang") == lang
    heading = _translated(app, lang, "Leichte Sprache")
    assert [h.text_content().strip() for h in tree.xpath("//main//h1")] == [heading]
    sections = [h.text_content().strip() for h in tree.xpath("//main//h2")]
    for msgid in ("Was ist das Kommunal-Portal?", "So finden Sie Ihre Gemeinde",
                  "So stellen Sie einen Antrag im Internet", "Was passiert dann?", "Sie brauchen Hilfe?"):
        assert _translated(app, lang, msgid) in sections
    lines = [" ".join(p.text_content().split()) for p in tree.xpath("//main//p")]
    assert len(lines) > 20
    for line in lines:
        assert len(SENTENCE_END.findall(line)) <= 1, f"{lang}: more than one sentence in {line!r}"
        assert len(line.split()) <= 15, f"{lang}: too long for Leichte Sprache: {line!r}"
    links = tree.xpath("//main//a/@href")
    assert "/" in links and "mailto:barrierefrei@dkb.example" in links


@pytest.mark.parametrize("slug", ["barrierefreiheit", "leichte-sprache"])
def test_association_page_slugs_are_reserved(slug: str) -> None:
    assert slug in RESERVED_SLUGS
    assert not is_valid_commune_slug(slug)


def test_association_pages_are_not_shadowed_by_communes(client: FlaskClient, association: None) -> None:
    """A commune's own /<commune>/barrierefreiheit stays its page; the top level stays the portal's."""
    commune = make_commune("werneuchen", name="Werneuchen", email="rathaus@werneuchen.example")
    ensure_required_pages(commune)
    db.session.commit()
    portal = _tree(client, "/barrierefreiheit")
    assert "mailto:barrierefrei@dkb.example" in portal.xpath("//main//a/@href")
    assert client.get("/barrierefreiheit/").status_code == 404
    assert client.get("/leichte-sprache/").status_code == 404
    response = client.get(f"/{commune.slug}/barrierefreiheit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "rathaus@werneuchen.example" in page and "barrierefrei@dkb.example" not in page
