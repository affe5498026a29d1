"""Full-text search: ranking, highlighted snippets, scope and robustness, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from factories import make_commune
from flask.testing import FlaskClient
from markupsafe import Markup
from sqlalchemy import func, select

from app.content.models import ContentKind, SearchEntry
from app.content.search import rebuild_index, search
from app.extensions import db

from .builders import document, event, news, page


def test_a_title_match_ranks_above_a_body_match() -> None:
    commune = make_commune()
    news(commune, "Sitzung der Gemeindevertretung", slug="sitzung",
         body="Der Haushalt wurde am Rande erwähnt.")
    page(commune, "Haushalt", slug="haushalt", body="Der Haushalt der Gemeinde im Überblick.")
    results = search("Haushalt", commune)
    assert [hit.item.slug for hit in results.hits] == ["haushalt", "sitzung"]
    assert results.total == 2
    assert results.hits[0].kind == ContentKind.PAGE
    assert results.hits[0].path == "haushalt"


def test_snippets_highlight_the_matches_and_escape_everything_else() -> None:
    commune = make_commune()
    news(commune, "Straßenreinigung <im> Winter", slug="winter",
         body="Im Winter räumt der Bauhof zuerst die Hauptstraßen. <script>alert(1)</script> "
              "Nebenstraßen folgen am Nachmittag.")
    hit = search("Winter", commune).hits[0]
    assert isinstance(hit.snippet, Markup) and isinstance(hit.title, Markup)
    assert "<mark>Winter</mark>" in hit.snippet
    assert "<mark>Winter</mark>" in hit.title
    assert "&lt;im&gt;" in hit.title
    assert "<script" not in hit.snippet and "<script" not in hit.title
    # Every mark is closed.
    assert hit.snippet.count("<mark>") == hit.snippet.count("</mark>")


def test_search_finds_every_kind_of_content_by_its_own_fields() -> None:
    commune = make_commune()
    page(commune, "Seite", slug="seite", description="Kiefernwald")
    news(commune, "Nachricht", slug="nachricht", lead="Kranichzug")
    event(commune, "Termin", slug="termin", location="Dorfanger Zützen")
    document(commune, "Dokument", slug="dokument", description="Wasserzweckverband",
             filename="gebuehren-abwasser.pdf")
    assert [h.kind for h in search("Kiefernwald", commune).hits] == [ContentKind.PAGE]
    assert [h.kind for h in search("Kranichzug", commune).hits] == [ContentKind.NEWS]
    assert [h.kind for h in search("Zützen", commune).hits] == [ContentKind.EVENT]
    assert [h.kind for h in search("Wasserzweckverband", commune).hits] == [ContentKind.DOCUMENT]


def test_commune_search_stays_in_its_commune_and_portal_search_spans_all() -> None:
    wer = make_commune("wer")
    pan = make_commune("pan")
    news(wer, "Badesee geöffnet", slug="badesee")
    news(pan, "Badesee gesperrt", slug="badesee")
    assert {h.commune.slug for h in search("Badesee", wer).hits} == {"wer"}
    assert {h.commune.slug for h in search("Badesee").hits} == {"wer", "pan"}


@pytest.mark.parametrize(
    "query",
    ['"', "'", "Haus*", "AND", "OR (", "NEAR(a b)", "-", "title:Haus", "^Haus", "a\x00b", "(((", "{}",
     "ü" * 300, "Haus " * 50, "   ", "", "<script>", "%", "\\"],
)
def test_no_query_can_make_search_fail(client: FlaskClient, query: str) -> None:
    commune = make_commune("wer")
    news(commune, "Haushalt", slug="haushalt")
    results = search(query, commune)
    assert results.total >= 0
    assert client.get("/wer/search", query_string={"q": query}).status_code == 200
    assert client.get("/search", query_string={"q": query}).status_code == 200


def test_search_results_are_paginated(client: FlaskClient) -> None:
    commune = make_commune("wer")
    for n in range(13):
        news(commune, f"Ortsbeirat Sitzung {n}", slug=f"sitzung-{n}")
    first = search("Ortsbeirat", commune, limit=10)
    second = search("Ortsbeirat", commune, limit=10, offset=10)
    assert first.total == 13 and len(first.hits) == 10 and len(second.hits) == 3
    assert first.pages == 2 and second.page == 2
    assert not {h.item.id for h in first.hits} & {h.item.id for h in second.hits}
    html = client.get("/wer/search?q=Ortsbeirat&page=2").get_data(as_text=True)
    assert "13 Treffer" in html and 'rel="prev"' in html


def test_the_index_follows_edits_and_deletions() -> None:
    commune = make_commune()
    item = news(commune, "Sperrmüll", slug="termin")
    assert search("Sperrmüll", commune).total == 1
    item.title = "Grünschnitt"
    db.session.commit()
    assert search("Sperrmüll", commune).total == 0
    assert search("Grünschnitt", commune).total == 1
    db.session.delete(item)
    db.session.commit()
    assert search("Grünschnitt", commune).total == 0


def test_deleting_a_page_removes_its_subpages_from_the_index() -> None:
    commune = make_commune()
    parent = page(commune, "Rathaus", slug="rathaus")
    page(commune, "Trauzimmer", slug="trauzimmer", parent=parent)
    assert search("Trauzimmer", commune).total == 1
    db.session.delete(parent)
    db.session.commit()
    assert search("Trauzimmer", commune).total == 0
    assert db.session.scalar(select(func.count()).select_from(SearchEntry)) == 0


def test_rebuilding_the_index_restores_it() -> None:
    commune = make_commune()
    news(commune, "Kirchturm", slug="kirchturm")
    page(commune, "Kirchturmuhr", slug="uhr")
    assert rebuild_index() == 2
    db.session.commit()
    assert search("Kirchturm", commune).total >= 1


def test_search_page_shows_ranked_hits_with_links_and_snippets(client: FlaskClient) -> None:
    commune = make_commune("wer", name="Werneuchen")
    rathaus = page(commune, "Rathaus", slug="rathaus")
    page(commune, "Standesamt", slug="standesamt", parent=rathaus, body="Trauungen im Standesamt.")
    html = client.get("/wer/search?q=Standesamt").get_data(as_text=True)
    assert '<a href="/wer/rathaus/standesamt"><mark>Standesamt</mark></a>' in html
    assert "Trauungen im <mark>Standesamt</mark>" in html
    portal = client.get("/search?q=Standesamt").get_data(as_text=True)
    assert 'href="/wer/rathaus/standesamt"' in portal and "Werneuchen" in portal
