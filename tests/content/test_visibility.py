"""Anything not published and effective is invisible to visitors everywhere.

Each hidden variant is checked at its own URL (404) and in every place that
lists content: home, listings, navigation, feed, commune search, portal search.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from factories import make_commune
from flask.testing import FlaskClient

from app.content import services
from app.content.models import PublicationState
from app.extensions import db
from app.tenancy.models import Commune
from app.timeutil import utcnow

from .builders import document, event, news, page

MARKER = "Zaunkoenigsweg"


def _hidden_variants() -> dict[str, Callable[[], dict[str, Any]]]:
    return {
        "private": lambda: {"state": PublicationState.PRIVATE},
        "pending": lambda: {"state": PublicationState.PENDING},
        "not yet effective": lambda: {"effective_at": utcnow() + timedelta(days=1)},
        "expired": lambda: {"expires_at": utcnow() - timedelta(minutes=1)},
    }


VARIANTS = _hidden_variants()


def _make(kind: str, commune: Commune, fields: dict[str, Any]) -> str:
    """Create a hidden item of ``kind`` whose title carries MARKER; return its URL."""
    title = f"{MARKER} {kind}"
    if kind == "page":
        page(commune, title, slug="versteckt", **fields)
        return f"/{commune.slug}/versteckt"
    if kind == "news":
        news(commune, title, slug="versteckt", lead=MARKER, **fields)
        return f"/{commune.slug}/news/versteckt"
    if kind == "event":
        event(commune, title, slug="versteckt", location=MARKER, **fields)
        return f"/{commune.slug}/events/versteckt"
    document(commune, title, slug="versteckt", description=MARKER, **fields)
    return f"/{commune.slug}/documents/versteckt"


def _listings(slug: str) -> list[str]:
    return [
        f"/{slug}/",
        f"/{slug}/news/",
        f"/{slug}/news/feed.atom",
        f"/{slug}/events/",
        f"/{slug}/events/archive",
        f"/{slug}/documents/",
        f"/{slug}/contact",
        f"/{slug}/sichtbar",
        f"/{slug}/search?q={MARKER}",
        f"/search?q={MARKER}",
    ]


@pytest.mark.parametrize("kind", ["page", "news", "event", "document"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_hidden_items_are_404_and_absent_from_every_listing(
    client: FlaskClient, kind: str, variant: str
) -> None:
    commune = make_commune("wer")
    page(commune, "Sichtbar", slug="sichtbar")
    url = _make(kind, commune, VARIANTS[variant]())
    assert client.get(url).status_code == 404
    for listing in _listings(commune.slug):
        response = client.get(listing)
        assert response.status_code == 200, listing
        body = response.get_data(as_text=True)
        assert "/versteckt" not in body, listing
        assert "<mark>" not in body, listing


def test_the_same_items_are_visible_once_published_and_effective(client: FlaskClient) -> None:
    """Guards the test above: the listings really would show the items."""
    urls = {kind: _make(kind, make_commune(), {}) for kind in ("page", "news", "event", "document")}
    for url in urls.values():
        assert client.get(url).status_code == 200
    for kind, url in urls.items():
        slug = url.split("/")[1]
        listings = [f"/{slug}/", f"/{slug}/search?q={MARKER}", f"/search?q={MARKER}"]
        listings += {
            "news": [f"/{slug}/news/", f"/{slug}/news/feed.atom"],
            "event": [f"/{slug}/events/"],
            "document": [f"/{slug}/documents/"],
        }.get(kind, [])
        for listing in listings:
            assert url in client.get(listing).get_data(as_text=True), (listing, kind)


def test_a_published_page_under_a_hidden_parent_is_hidden_too(client: FlaskClient) -> None:
    commune = make_commune("wer")
    parent = page(commune, "Elternseite", slug="eltern", state=PublicationState.PRIVATE)
    page(commune, f"{MARKER} Kind", slug="kind", parent=parent)
    assert client.get("/wer/eltern/kind").status_code == 404
    assert client.get("/wer/eltern").status_code == 404
    for listing in ("/wer/", f"/wer/search?q={MARKER}", f"/search?q={MARKER}"):
        assert "/wer/eltern" not in client.get(listing).get_data(as_text=True), listing
    services.publish(parent)
    db.session.commit()
    assert client.get("/wer/eltern/kind").status_code == 200
    assert "/wer/eltern/kind" in client.get(f"/wer/search?q={MARKER}").get_data(as_text=True)


def test_retracting_an_item_hides_it_again(client: FlaskClient) -> None:
    commune = make_commune("wer")
    item = news(commune, f"{MARKER} zurückgezogen", slug="zurueck")
    assert client.get("/wer/news/zurueck").status_code == 200
    services.retract(item)
    db.session.commit()
    assert client.get("/wer/news/zurueck").status_code == 404
    assert "/wer/news/zurueck" not in client.get(f"/search?q={MARKER}").get_data(as_text=True)


def test_content_of_a_deactivated_commune_is_not_found_by_portal_search(client: FlaskClient) -> None:
    commune = make_commune("weg")
    news(commune, f"{MARKER} alt", slug="alt")
    assert "/weg/news/alt" in client.get(f"/search?q={MARKER}").get_data(as_text=True)
    commune.active = False
    db.session.commit()
    assert "/weg/news/alt" not in client.get(f"/search?q={MARKER}").get_data(as_text=True)


def test_items_of_another_commune_are_not_reachable_under_this_one(client: FlaskClient) -> None:
    make_commune("wer")
    other = make_commune("pan")
    news(other, "Nur in Panketal", slug="nur-pan")
    page(other, "Nur Seite", slug="nur-seite")
    assert client.get("/pan/news/nur-pan").status_code == 200
    assert client.get("/wer/news/nur-pan").status_code == 404
    assert client.get("/wer/nur-seite").status_code == 404
    assert "/pan/" not in client.get("/wer/search?q=Panketal").get_data(as_text=True)
