"""Script in any content field never reaches a page as script."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from factories import make_commune, make_office
from flask.testing import FlaskClient

from app.timeutil import utcnow

from .builders import document, event, news, page

ATOM = "{http://www.w3.org/2005/Atom}"
PAYLOADS = [
    '<script>alert("xss")</script>',
    '<img src=x onerror=alert("xss")>',
    '"><svg onload=alert("xss")>',
    "[klick](javascript:alert('xss'))",
    "<a href=\"javascript:alert('xss')\">klick</a>",
]


class _Elements(HTMLParser):
    """Collects the elements and attributes a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def _assert_inert(html: str) -> None:
    parser = _Elements()
    parser.feed(html)
    for tag, attrs in parser.elements:
        assert tag not in ("script", "svg", "iframe", "object"), (tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, attrs)
            if name in ("href", "src", "action"):
                assert not (value or "").strip().lower().startswith("javascript:"), (tag, attrs)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_every_content_field_stay_text(client: FlaskClient, payload: str) -> None:
    commune = make_commune("wer", opening_hours=payload)
    make_office(commune, name=f"Amt {payload}", room=payload, opening_hours=payload)
    parent = page(commune, f"Seite {payload}", slug="seite", description=payload, body=payload)
    page(commune, f"Kind {payload}", slug="kind", parent=parent, description=payload, body=payload)
    news(commune, f"Nachricht {payload}", slug="nachricht", lead=payload, body=payload)
    event(commune, f"Termin {payload}", slug="termin", location=payload, body=payload)
    event(commune, f"Alt {payload}", slug="alt", location=payload,
          starts_at=utcnow() - timedelta(days=2))
    document(commune, f"Dokument {payload}", slug="dokument", description=payload, body=payload,
             filename=f"{payload}.pdf")
    for url in (
        "/wer/",
        "/wer/seite",
        "/wer/seite/kind",
        "/wer/news/",
        "/wer/news/nachricht",
        "/wer/events/",
        "/wer/events/archive",
        "/wer/events/termin",
        "/wer/documents/",
        "/wer/contact",
        "/wer/search?q=xss",
        "/search?q=xss",
        f"/search?q={payload}",
        "/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_inert(response.get_data(as_text=True))
    feed = ET.fromstring(client.get("/wer/news/feed.atom").data)
    # Titles and summaries are Atom text; the HTML content, once unescaped, must be inert.
    for content in feed.iter(f"{ATOM}content"):
        assert content.get("type") == "html"
        _assert_inert(content.text or "")
    download = client.get("/wer/documents/dokument")
    assert "<" not in download.headers["Content-Disposition"]
    assert '"' not in download.headers["Content-Disposition"].split("filename=", 1)[1].strip('"')


def test_payloads_in_the_title_are_shown_escaped(client: FlaskClient) -> None:
    commune = make_commune("wer")
    news(commune, "<b>Fett</b> & <i>kursiv</i>", slug="titel")
    html = client.get("/wer/news/titel").get_data(as_text=True)
    assert "&lt;b&gt;Fett&lt;/b&gt; &amp; &lt;i&gt;kursiv&lt;/i&gt;" in html


def test_links_in_bodies_get_rel_noopener(client: FlaskClient) -> None:
    commune = make_commune("wer")
    page(commune, "Links", slug="links", body="Siehe [Landesportal](https://service.brandenburg.de).")
    html = client.get("/wer/links").get_data(as_text=True)
    assert '<a href="https://service.brandenburg.de" rel="noopener noreferrer">Landesportal</a>' in html


def test_a_body_cannot_bring_its_own_h1(client: FlaskClient) -> None:
    commune = make_commune("wer")
    page(commune, "Titel", slug="titel", body="# Zweite Überschrift\n\nText")
    html = client.get("/wer/titel").get_data(as_text=True)
    assert html.count("<h1") == 1 and "<h2>Zweite Überschrift</h2>" in html
