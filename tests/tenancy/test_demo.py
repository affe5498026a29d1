"""The demo association, communes and offices: complete, valid, accessible, idempotent."""

from __future__ import annotations

from sqlalchemy import func, select
from stdnum.de import leitweg

from app.content import demo as content_demo
from app.content.models import Document, Event, NewsItem, Page, PublicationState
from app.extensions import db
from app.tenancy import demo
from app.tenancy.models import Association, Commune, Office
from app.timeutil import utcnow


def _relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_the_five_demo_communes_with_the_association_are_created_once() -> None:
    demo.load_demo()
    lines = demo.load_demo()
    assert db.session.scalar(select(func.count()).select_from(Association)) == 1
    communes = {c.short_code: c for c in db.session.scalars(select(Commune))}
    assert set(communes) == {"WER", "PAN", "FBG", "NIE", "MHD"}
    assert communes["FBG"].name == "Fürstenberg/Havel"
    assert all("vorhanden, 0 Ämter neu" in line for line in lines[1:])


def test_every_demo_commune_has_the_offices_services_are_routed_to() -> None:
    demo.load_demo()
    for commune in db.session.scalars(select(Commune)):
        kinds = {o.kind for o in commune.offices}
        assert set(demo.REQUIRED_OFFICE_KINDS) <= kinds, commune.slug
        assert kinds <= set(demo.OFFICE_NAMES)
        for office in commune.offices:
            assert office.opening_hours and office.email.endswith(".example")


def test_brand_colours_have_enough_contrast_against_white_text() -> None:
    for commune in demo.DEMO_COMMUNES:
        ratio = 1.05 / (_relative_luminance(commune.brand_colour) + 0.05)
        assert ratio >= 4.5, (commune.slug, round(ratio, 2))


def test_leitweg_ids_are_valid() -> None:
    demo.load_demo()
    for commune in db.session.scalars(select(Commune)):
        assert commune.leitweg_ids
        for value in commune.leitweg_ids:
            assert leitweg.is_valid(value), value


def test_demo_content_meets_the_minimums_and_shows_the_workflow() -> None:
    demo.load_demo()
    content_demo.load_demo()
    now = utcnow()
    for commune in db.session.scalars(select(Commune)):
        pages = list(db.session.scalars(select(Page).where(Page.commune_id == commune.id)))
        published_pages = [p for p in pages if p.is_visible(now)]
        assert len(published_pages) >= 5
        assert any(p.parent_id is not None for p in published_pages), "two-level tree"
        slugs = {p.slug for p in published_pages if p.parent_id is None}
        assert {"impressum", "datenschutz", "barrierefreiheit", "leichte-sprache"} <= slugs
        barrierefreiheit = next(p for p in pages if p.slug == "barrierefreiheit")
        assert "Durchsetzungsstelle" in barrierefreiheit.body and commune.email in barrierefreiheit.body
        news = list(db.session.scalars(select(NewsItem).where(NewsItem.commune_id == commune.id)))
        assert sum(n.is_visible(now) for n in news) >= 5
        assert any(n.expires_at is not None and n.expires_at <= now for n in news), "an expired item"
        assert any(p.state == PublicationState.PRIVATE for p in pages), "a private item"
        events = list(db.session.scalars(select(Event).where(Event.commune_id == commune.id)))
        assert sum(e.is_visible(now) and e.ends_at >= now for e in events) >= 3
        assert sum(e.is_visible(now) and e.ends_at < now for e in events) >= 2
        documents = list(db.session.scalars(select(Document).where(Document.commune_id == commune.id)))
        assert len(documents) >= 2
        assert all(d.media_type == "application/pdf" and d.size > 500 for d in documents)
        assert all("Beispielinhalt" in item.body for item in [*pages, *news, *events])


def test_demo_pdfs_are_real_pdfs_and_reproducible() -> None:
    first = content_demo.sample_pdf("Amtsblatt", ["Beispielinhalt"])
    assert first.startswith(b"%PDF-") and first == content_demo.sample_pdf("Amtsblatt", ["Beispielinhalt"])


def test_demo_content_is_not_duplicated_on_a_second_run() -> None:
    demo.load_demo()
    content_demo.load_demo()
    models = (Page, NewsItem, Event, Document)
    counts = [db.session.scalar(select(func.count()).select_from(m)) for m in models]
    lines = content_demo.load_demo()
    assert [db.session.scalar(select(func.count()).select_from(m)) for m in models] == counts
    assert all("0 Seiten, 0 Nachrichten, 0 Veranstaltungen, 0 Dokumente neu" in line for line in lines)
    assert db.session.scalar(select(func.count()).select_from(Office)) > 0
