"""What a visitor sees of a commune: every page type, navigation, listings, feed, downloads."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest
from factories import make_commune, make_office
from flask.testing import FlaskClient
from PIL import Image

from app.content import demo as content_demo
from app.content.models import PublicationState
from app.extensions import db
from app.storage import blob_store
from app.tenancy import demo as tenancy_demo
from app.timeutil import utcnow

from .builders import PDF_BYTES, document, event, news, page

ATOM = "{http://www.w3.org/2005/Atom}"


def _html(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def test_every_page_of_the_demo_communes_renders(client: FlaskClient) -> None:
    """Crawls every public link from each demo commune's home page; all answer 200."""
    tenancy_demo.load_demo()
    content_demo.load_demo()
    start = [f"/{d.slug}/" for d in tenancy_demo.DEMO_COMMUNES]
    seen: set[str] = set()
    todo = list(start)
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        if response.mimetype != "text/html":
            continue
        for href in re.findall(r'(?:href|src)="(/[^"#]*)"', response.get_data(as_text=True)):
            href = href.replace("&amp;", "&")
            if href.startswith(("/static/", "/staff")) or "lang=" in href:
                continue
            # Stay within the content feature's pages (other features test their own).
            if any(part in href for part in ("/services/", "/status/")):
                continue
            todo.append(href)
    visited = "\n".join(sorted(seen))
    for needed in (
        "/werneuchen/news/",
        "/werneuchen/news/online-antraege",
        "/werneuchen/news/feed.atom",
        "/werneuchen/events/",
        "/werneuchen/events/archive",
        "/werneuchen/events/oeffentliche-sitzung",
        "/werneuchen/events/blutspende",
        "/werneuchen/contact",
        "/werneuchen/rathaus",
        "/werneuchen/rathaus/ortsrecht",
        "/werneuchen/impressum",
        "/werneuchen/datenschutz",
        "/werneuchen/barrierefreiheit",
        "/werneuchen/leichte-sprache",
        "/werneuchen/documents/",
        "/werneuchen/documents/hauptsatzung",
        "/werneuchen/news/online-antraege/image",
    ):
        assert needed in visited, needed
    assert len(seen) > 100


def test_commune_home_shows_news_events_contact_and_navigation(client: FlaskClient) -> None:
    commune = make_commune("wer", name="Werneuchen", opening_hours="- Dienstag: 9–18 Uhr")
    page(commune, "Rathaus und Verwaltung", slug="rathaus", description="Wer wofür zuständig ist")
    news(commune, "Neue Sprechzeiten", lead="Dienstags länger")
    event(commune, "Stadtfest", location="Marktplatz")
    html = _html(client, "/wer/")
    assert "<h1>Gemeinde" in html or "<h1>" in html
    assert "Neue Sprechzeiten" in html and "Dienstags länger" in html
    assert "Stadtfest" in html and "Marktplatz" in html
    assert "Am Markt 1" in html and "033398 8160" in html and "info@wer.example" in html
    assert "Dienstag: 9–18 Uhr" in html
    assert 'href="/wer/rathaus"' in html
    assert 'type="application/atom+xml"' in html


def test_pages_show_breadcrumbs_children_and_section_navigation(client: FlaskClient) -> None:
    commune = make_commune("wer")
    rathaus = page(commune, "Rathaus", body="Das **Rathaus**.")
    page(commune, "Bürgermeister", slug="buergermeister", parent=rathaus, body="Sprechstunde")
    page(commune, "Ortsrecht", parent=rathaus)
    top = _html(client, "/wer/rathaus")
    assert "<strong>Rathaus</strong>" in top
    assert 'href="/wer/rathaus/buergermeister"' in top and 'href="/wer/rathaus/ortsrecht"' in top
    child = _html(client, "/wer/rathaus/buergermeister")
    crumbs = child.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert 'href="/wer/"' in crumbs and 'href="/wer/rathaus"' in crumbs
    assert '<span aria-current="page">Bürgermeister</span>' in crumbs
    section = child.split('class="section-nav"')[1].split("</nav>")[0]
    assert 'href="/wer/rathaus/ortsrecht"' in section
    assert child.count("<h1") == 1


def test_news_are_paginated_newest_first(client: FlaskClient) -> None:
    commune = make_commune("wer")
    for n in range(12):
        news(commune, f"Meldung {n:02d}", news_date=date(2026, 1, 1) + timedelta(days=n))
    first = _html(client, "/wer/news/")
    assert first.index("Meldung 11") < first.index("Meldung 02")
    assert "Meldung 01" not in first
    assert 'rel="next" href="/wer/news/?page=2"' in first
    second = _html(client, "/wer/news/?page=2")
    assert "Meldung 01" in second and "Meldung 00" in second and "Meldung 11" not in second
    for bad in ("3", "0", "-1", "zwei", "²", "99999999999999999999999", ""):
        _html(client, f"/wer/news/?page={bad}", status=404)
        _html(client, f"/wer/events/archive?page={bad}", status=404)
        _html(client, f"/wer/search?q=Meldung&page={bad}", status=404 if bad != "3" else 200)
        _html(client, f"/search?q=Meldung&page={bad}", status=404 if bad != "3" else 200)


def test_news_item_shows_date_lead_body_and_image_with_alt_text(client: FlaskClient) -> None:
    commune = make_commune("wer")
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "#1d4f91").save(out, format="PNG")
    news(commune, "Mit Bild", slug="mit-bild", news_date=date(2026, 3, 2), lead="Der Vorspann",
         body="Der *Text*", image=out.getvalue(), image_alt="Das Rathaus im Frühling")
    html = _html(client, "/wer/news/mit-bild")
    assert "2. März 2026" in html and "Der Vorspann" in html and "<em>Text</em>" in html
    assert '<img src="/wer/news/mit-bild/image" alt="Das Rathaus im Frühling">' in html
    image = client.get("/wer/news/mit-bild/image")
    assert image.status_code == 200 and image.mimetype == "image/png"
    news(commune, "Ohne Bild", slug="ohne-bild")
    assert client.get("/wer/news/ohne-bild/image").status_code == 404


def test_past_events_leave_the_upcoming_list_but_stay_reachable(client: FlaskClient) -> None:
    commune = make_commune("wer")
    now = utcnow()
    event(commune, "Kommt noch", slug="kommt", starts_at=now + timedelta(days=2))
    event(commune, "Läuft gerade", slug="laeuft", starts_at=now - timedelta(hours=1),
          ends_at=now + timedelta(hours=1))
    event(commune, "Vorbei", slug="vorbei", starts_at=now - timedelta(days=3),
          ends_at=now - timedelta(days=3) + timedelta(hours=2))
    upcoming = _html(client, "/wer/events/")
    assert "Kommt noch" in upcoming and "Läuft gerade" in upcoming and "Vorbei" not in upcoming
    assert upcoming.index("Läuft gerade") < upcoming.index("Kommt noch")
    archive = _html(client, "/wer/events/archive")
    assert "Vorbei" in archive and "Kommt noch" not in archive
    past = _html(client, "/wer/events/vorbei")
    assert "hat bereits stattgefunden" in past


def test_all_day_events_show_berlin_dates_without_times(client: FlaskClient) -> None:
    commune = make_commune("wer")
    start = datetime(2099, 7, 4, 12, 0, tzinfo=UTC)
    event(commune, "Heidefest", slug="heidefest", starts_at=start, ends_at=start + timedelta(days=1),
          all_day=True)
    html = _html(client, "/wer/events/heidefest")
    facts = html.split('class="facts"')[1].split("</dl>")[0]
    assert "ganztägig" in facts and " Uhr" not in facts
    assert '<time datetime="2099-07-04">Samstag, 4. Juli 2099</time>' in facts
    assert '<time datetime="2099-07-05">Sonntag, 5. Juli 2099</time>' in facts


def test_contact_lists_the_communes_offices_with_opening_hours(client: FlaskClient) -> None:
    commune = make_commune("wer")
    make_office(commune, slug="buergeramt", name="Bürgeramt", phone="033398 101",
                email="buergeramt@wer.example", opening_hours="- Dienstag: 9–12 Uhr")
    make_office(commune, slug="alt", name="Aufgelöstes Amt", active=False)
    html = _html(client, "/wer/contact")
    assert "Bürgeramt" in html and "033398 101" in html and "buergeramt@wer.example" in html
    assert "<li>Dienstag: 9–12 Uhr</li>" in html
    assert "Aufgelöstes Amt" not in html


def test_documents_are_listed_with_type_and_size(client: FlaskClient) -> None:
    commune = make_commune("wer")
    document(commune, "Amtsblatt 03/2026", slug="amtsblatt", description="Ausgabe März")
    html = _html(client, "/wer/documents/")
    assert "Amtsblatt 03/2026" in html and "PDF-Dokument" in html and "Ausgabe März" in html
    assert f"{len(PDF_BYTES)} B" in html


def test_document_download_has_type_disposition_and_strong_etag(client: FlaskClient) -> None:
    commune = make_commune("wer")
    doc = document(commune, "Hauptsatzung", slug="hauptsatzung", filename="Hauptsatzung Märkische Heide.pdf")
    response = client.get("/wer/documents/hauptsatzung")
    assert response.status_code == 200
    assert response.data == PDF_BYTES
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Length"] == str(len(PDF_BYTES))
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Hauptsatzung%20M%C3%A4rkische%20Heide.pdf" in disposition
    assert 'filename="Hauptsatzung Markische Heide.pdf"' in disposition
    assert response.headers["ETag"] == f'"{doc.sha256}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    again = client.get("/wer/documents/hauptsatzung", headers={"If-None-Match": f'"{doc.sha256}"'})
    assert again.status_code == 304 and again.data == b""
    changed = client.get("/wer/documents/hauptsatzung", headers={"If-None-Match": '"anders"'})
    assert changed.status_code == 200


def test_coat_of_arms_is_served_from_storage_or_404(client: FlaskClient) -> None:
    plain = make_commune("ohne")
    assert client.get(f"/{plain.slug}/coat-of-arms").status_code == 404
    out = io.BytesIO()
    Image.new("RGB", (10, 12), "#8a1c2b").save(out, format="PNG")
    stored = blob_store().put(out.getvalue())
    make_commune("mit", coat_of_arms_key=stored.key, coat_of_arms_type="image/png")
    response = client.get("/mit/coat-of-arms")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["ETag"] == f'"{stored.key}"'
    assert 'src="/mit/coat-of-arms"' in _html(client, "/mit/contact")


def test_atom_feed_lists_visible_news_with_content(client: FlaskClient) -> None:
    commune = make_commune("wer", name="Werneuchen")
    news(commune, "Erste Meldung", slug="erste", lead="Kurz", body="Mit [Link](https://example.org)")
    news(commune, "Geheim", slug="geheim", state=PublicationState.PRIVATE)
    response = client.get("/wer/news/feed.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title") == "Nachrichten aus Werneuchen"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Erste Meldung"]
    entry = entries[0]
    assert entry.find(f"{ATOM}link").get("href") == "http://localhost/wer/news/erste"
    assert entry.findtext(f"{ATOM}summary") == "Kurz"
    assert 'rel="noopener noreferrer"' in entry.findtext(f"{ATOM}content")


@pytest.mark.parametrize(
    "url",
    ["/unbekannt/", "/unbekannt/news/", "/wer/news/gibt-es-nicht", "/wer/events/gibt-es-nicht",
     "/wer/documents/gibt-es-nicht", "/wer/keine/seite", "/wer/rathaus/fehlt",
     "/wer/news/a%00b", "/wer/events/a%00b", "/wer/documents/a%00b", "/wer/news/a%00b/image", "/wer/a%00b"],
)
def test_unknown_commune_page_or_slug_is_a_404_page_in_the_layout(client: FlaskClient, url: str) -> None:
    commune = make_commune("wer")
    page(commune, "Rathaus")
    html = _html(client, url, status=404)
    assert 'class="site-header"' in html and 'class="site-footer"' in html
    assert "Seite nicht gefunden" in html


def test_a_deactivated_commune_answers_410(client: FlaskClient) -> None:
    make_commune("weg", active=False)
    assert client.get("/weg/").status_code == 410


def test_a_missing_blob_is_a_404_not_a_500(client: FlaskClient) -> None:
    commune = make_commune("wer")
    doc = document(commune, "Verloren", slug="verloren", data=b"%PDF-1.4 einmalig verloren")
    blob_store().delete(doc.file_key)
    assert client.get("/wer/documents/verloren").status_code == 404
    db.session.rollback()
