"""The publication workflow and the rules every content item obeys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import make_commune
from sqlalchemy import select

from app.content import services
from app.content.models import NewsItem, PublicationState, visible_to_public
from app.content.services import ContentError, WorkflowError
from app.extensions import db
from app.timeutil import utcnow

from .builders import event, news, page

PRIVATE, PENDING, PUBLISHED = PublicationState


def test_simple_publication_workflow_moves_private_to_pending_to_published_and_back() -> None:
    item = news(make_commune(), "Neuigkeit", state=PRIVATE)
    assert services.available_transitions(item) == ["submit", "publish"]
    services.submit(item)
    assert item.state == PENDING
    assert services.available_transitions(item) == ["publish", "retract", "reject"]
    services.publish(item)
    assert item.state == PUBLISHED
    assert services.available_transitions(item) == ["retract"]
    services.retract(item)
    assert item.state == PRIVATE


def test_private_items_can_be_published_directly_and_pending_ones_retracted() -> None:
    commune = make_commune()
    direct = news(commune, "Direkt", state=PRIVATE)
    services.publish(direct)
    assert direct.state == PUBLISHED
    waiting = news(commune, "Wartet", state=PENDING)
    services.retract(waiting)
    assert waiting.state == PRIVATE


def test_reject_sends_a_pending_item_back_with_the_reviewers_reason() -> None:
    item = page(make_commune(), "Entwurf", state=PENDING)
    services.reject(item, "  Bitte Quelle ergänzen. ")
    assert item.state == PRIVATE
    assert item.review_comment == "Bitte Quelle ergänzen."
    services.submit(item)
    assert item.review_comment == ""


@pytest.mark.parametrize(
    ("state", "transition"),
    [
        (PENDING, "submit"),
        (PUBLISHED, "submit"),
        (PUBLISHED, "publish"),
        (PRIVATE, "retract"),
        (PRIVATE, "reject"),
        (PUBLISHED, "reject"),
    ],
)
def test_illegal_transitions_raise_a_workflow_error_and_change_nothing(
    state: PublicationState, transition: str
) -> None:
    item = news(make_commune(), "Nachricht", state=state)
    with pytest.raises(WorkflowError):
        if transition == "reject":
            services.reject(item, "Grund")
        else:
            getattr(services, transition)(item)
    assert item.state == state


def test_reject_needs_a_reason() -> None:
    item = news(make_commune(), "Nachricht", state=PENDING)
    with pytest.raises(WorkflowError):
        services.reject(item, "   ")
    assert item.state == PENDING


def _visible_titles(now: datetime) -> set[str]:
    return set(db.session.scalars(select(NewsItem.title).where(visible_to_public(NewsItem, now))))


def test_only_published_effective_unexpired_items_are_visible_to_the_public() -> None:
    commune = make_commune()
    now = utcnow()
    news(commune, "öffentlich")
    news(commune, "privat", state=PRIVATE)
    news(commune, "wartend", state=PENDING)
    news(commune, "zukünftig", effective_at=now + timedelta(hours=1))
    news(commune, "wirksam", effective_at=now - timedelta(hours=1))
    news(commune, "abgelaufen", expires_at=now - timedelta(seconds=1))
    news(commune, "läuft bald ab", expires_at=now + timedelta(hours=1))
    assert _visible_titles(now) == {"öffentlich", "wirksam", "läuft bald ab"}
    # The expiry moment itself is already "expired"; the effective moment already "effective".
    assert "läuft bald ab" not in _visible_titles(now + timedelta(hours=1))
    assert "zukünftig" in _visible_titles(now + timedelta(hours=1))


def test_expiry_must_come_after_the_effective_date() -> None:
    now = utcnow()
    with pytest.raises(ContentError):
        news(make_commune(), "Falsch", effective_at=now, expires_at=now)


def test_page_slugs_are_unique_among_siblings_only() -> None:
    commune = make_commune()
    rathaus = page(commune, "Rathaus")
    leben = page(commune, "Leben")
    page(commune, "Kontakt im Rathaus", slug="ansprechpartner", parent=rathaus)
    page(commune, "Kontakt Leben", slug="ansprechpartner", parent=leben)
    with pytest.raises(ContentError):
        page(commune, "Noch einmal", slug="ansprechpartner", parent=rathaus)
    with pytest.raises(ContentError):
        page(commune, "Rathaus")
    # Another commune may use the same slugs.
    page(make_commune(), "Rathaus")


def test_top_level_pages_cannot_take_the_slugs_of_the_communes_routes() -> None:
    commune = make_commune()
    with pytest.raises(ContentError):
        page(commune, "Nachrichten", slug="news")
    parent = page(commune, "Presse")
    assert page(commune, "Nachrichten", slug="news", parent=parent).slug == "news"


def test_pages_get_the_next_position_among_their_siblings() -> None:
    commune = make_commune()
    first = page(commune, "Erste")
    second = page(commune, "Zweite")
    assert second.position == first.position + 1


def test_slugs_transliterate_german_titles() -> None:
    assert services.make_slug("Straßenfest in Fürstenberg/Havel") == "strassenfest-in-fuerstenberg-havel"
    assert services.make_slug("Öffnungszeiten ÄNDERN sich") == "oeffnungszeiten-aendern-sich"
    assert services.make_slug("!!!") == "eintrag"


def test_invalid_slugs_are_refused() -> None:
    with pytest.raises(ContentError):
        news(make_commune(), "Nachricht", slug="Mit Leerzeichen")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\Satzung.pdf", "Satzung.pdf"),
        ('Amts"blatt\r\n; filename=evil.exe.pdf', "Amtsblatt filenameevil.exe.pdf"),
        ("Hauptsatzung Märkische Heide.pdf", "Hauptsatzung Märkische Heide.pdf"),
        ("...", "download"),
    ],
)
def test_sanitize_filename_keeps_a_safe_name(given: str, expected: str) -> None:
    assert services.sanitize_filename(given) == expected


def test_media_type_is_detected_from_content_and_active_types_are_neutralised() -> None:
    assert services.detect_media_type(b"%PDF-1.7\n...", "x.bin") == "application/pdf"
    assert services.detect_media_type(b"a;b\n1;2\n", "liste.csv") == "text/csv"
    assert services.detect_media_type(b"<html><script>x</script>", "seite.html") == "application/octet-stream"
    assert services.detect_media_type(b"<svg onload=alert(1)>", "bild.svg") == "application/octet-stream"


def test_all_day_events_span_whole_berlin_days() -> None:
    start = datetime(2026, 7, 4, 15, 0, tzinfo=UTC)
    item = event(make_commune(), "Fest", starts_at=start, ends_at=start + timedelta(days=1), all_day=True)
    assert item.starts_at == datetime(2026, 7, 3, 22, 0, tzinfo=UTC)  # midnight in Berlin (CEST)
    assert item.ends_at == datetime(2026, 7, 5, 21, 59, 59, tzinfo=UTC)
    assert item.spans_days


def test_an_event_cannot_end_before_it_starts() -> None:
    start = utcnow()
    with pytest.raises(ContentError):
        event(make_commune(), "Rückwärts", starts_at=start, ends_at=start - timedelta(minutes=1))


def test_news_images_must_be_images_with_alt_text() -> None:
    commune = make_commune()
    with pytest.raises(ContentError):
        news(commune, "Bild", image=b"%PDF-1.4", image_alt="Ein Bild")
    with pytest.raises(ContentError):
        news(commune, "Bild", image=_png(), image_alt=" ")
    item = news(commune, "Bild", image=_png(), image_alt="Rathaus im Sommer")
    assert item.image_type == "image/png"


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "#1d4f91").save(out, format="PNG")
    return out.getvalue()
