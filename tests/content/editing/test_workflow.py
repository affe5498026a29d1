"""The publication workflow from the staff screens, and who may take which step."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.content.models import NewsItem, PublicationState
from app.extensions import db
from app.staff.models import AuditAction, AuditEntry

from .conftest import Place, make_place
from .helpers import audit_actions, reload, url


def _write_news(client: FlaskClient, place: Place, title: str = "Neue Öffnungszeiten") -> NewsItem:
    response = client.post(
        url(place.commune, "news/new"),
        data={
            "title": title,
            "slug": "",
            "news_date": date.today().isoformat(),
            "lead": "Ab Montag länger geöffnet.",
            "body": "Das Bürgerbüro ist **dienstags** bis 18 Uhr geöffnet.",
            "image_alt": "",
            "action": "save",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    item = db.session.scalar(
        select(NewsItem).where(NewsItem.commune_id == place.commune.id, NewsItem.title == title)
    )
    assert item is not None
    return item


def _step(client: FlaskClient, place: Place, item: NewsItem, transition: str, comment: str = ""):
    return client.post(
        url(place.commune, f"news/{item.id}/workflow"), data={"transition": transition, "comment": comment}
    )


def test_editor_submits_and_admin_publishes_then_visitors_see_it(
    editor: FlaskClient, admin: FlaskClient, client: FlaskClient, place: Place
) -> None:
    item = _write_news(editor, place)
    public = f"/{place.commune.slug}/news/{item.slug}"
    assert client.get(public).status_code == 404
    assert _step(editor, place, item, "submit").status_code == 302
    assert reload(item).state is PublicationState.PENDING
    waiting = admin.get(url(place.commune, "review")).get_data(as_text=True)
    assert "Neue Öffnungszeiten" in waiting
    assert _step(admin, place, item, "publish").status_code == 302
    assert reload(item).state is PublicationState.PUBLISHED
    assert client.get(public).status_code == 200
    entries = list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == AuditAction.CONTENT_STATE_CHANGED))
    )
    assert [(e.details["old"], e.details["new"]) for e in entries] == [
        ("private", "pending"),
        ("pending", "published"),
    ]


def test_an_editor_cannot_publish_where_review_is_required(editor: FlaskClient, place: Place) -> None:
    item = _write_news(editor, place)
    page = editor.get(url(place.commune, f"news/{item.id}")).get_data(as_text=True)
    assert "Zur Prüfung einreichen" in page and "Veröffentlichen</button>" not in page
    assert _step(editor, place, item, "publish").status_code == 403
    _step(editor, place, item, "submit")
    assert _step(editor, place, item, "publish").status_code == 403
    assert _step(editor, place, item, "reject", "nein").status_code == 403
    assert reload(item).state is PublicationState.PENDING


def test_an_editor_publishes_directly_where_the_commune_allows_it(app: Flask, client: FlaskClient) -> None:
    place = make_place(editors_may_publish=True)
    editor = place.client(app, place.editor)
    item = _write_news(editor, place)
    page = editor.get(url(place.commune, f"news/{item.id}")).get_data(as_text=True)
    assert "Zur Prüfung einreichen" not in page
    assert _step(editor, place, item, "publish").status_code == 302
    assert client.get(f"/{place.commune.slug}/news/{item.slug}").status_code == 200


def test_a_rejection_needs_a_reason_which_the_author_then_sees(
    editor: FlaskClient, admin: FlaskClient, place: Place
) -> None:
    item = _write_news(editor, place)
    _step(editor, place, item, "submit")
    response = _step(admin, place, item, "reject", "  ")
    assert response.status_code == 302
    assert reload(item).state is PublicationState.PENDING
    assert "Bitte begründen Sie die Zurückweisung" in admin.get(response.location).get_data(as_text=True)
    _step(admin, place, item, "reject", "Bitte die Uhrzeiten prüfen.")
    item = reload(item)
    assert item.state is PublicationState.PRIVATE and item.review_comment == "Bitte die Uhrzeiten prüfen."
    drafts = editor.get(url(place.commune, "drafts")).get_data(as_text=True)
    assert "Neue Öffnungszeiten" in drafts and "Bitte die Uhrzeiten prüfen." in drafts
    assert "Bitte die Uhrzeiten prüfen." in editor.get(url(place.commune, f"news/{item.id}")).get_data(
        as_text=True
    )
    rejected = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.CONTENT_STATE_CHANGED)
    )
    assert any(e.details.get("comment") == "Bitte die Uhrzeiten prüfen." for e in rejected)


def test_an_editor_withdraws_a_submission_but_cannot_retract_what_is_public(
    editor: FlaskClient, admin: FlaskClient, place: Place
) -> None:
    item = _write_news(editor, place)
    _step(editor, place, item, "submit")
    assert _step(editor, place, item, "retract").status_code == 302
    assert reload(item).state is PublicationState.PRIVATE
    _step(admin, place, item, "publish")
    assert _step(editor, place, item, "retract").status_code == 403
    assert _step(admin, place, item, "retract").status_code == 302
    assert reload(item).state is PublicationState.PRIVATE


def test_an_editor_cannot_change_or_delete_what_is_public_where_review_is_required(
    editor: FlaskClient, admin: FlaskClient, place: Place
) -> None:
    item = _write_news(editor, place)
    _step(admin, place, item, "publish")
    response = editor.post(
        url(place.commune, f"news/{item.id}"),
        data={"title": "Geändert", "news_date": date.today().isoformat(), "body": "x", "action": "save"},
    )
    assert response.status_code == 200
    assert "ist veröffentlicht. Ändern oder löschen kann es nur" in response.get_data(as_text=True)
    assert editor.post(url(place.commune, f"news/{item.id}/delete")).status_code == 200
    item = reload(item)
    assert item.title == "Neue Öffnungszeiten" and item.state is PublicationState.PUBLISHED


def test_effective_and_expiry_dates_are_stored_in_utc(admin: FlaskClient, place: Place) -> None:
    item = _write_news(admin, place)
    response = admin.post(
        url(place.commune, f"news/{item.id}"),
        data={
            "title": item.title,
            "news_date": date.today().isoformat(),
            "effective_at": "2030-07-01T08:00",
            "expires_at": "2030-07-31T18:00",
            "action": "save",
        },
    )
    assert response.status_code == 302
    item = reload(item)
    assert item.effective_at is not None and item.effective_at.isoformat() == "2030-07-01T06:00:00+00:00"
    response = admin.post(
        url(place.commune, f"news/{item.id}"),
        data={
            "title": item.title,
            "news_date": date.today().isoformat(),
            "effective_at": "2030-07-31T18:00",
            "expires_at": "2030-07-01T08:00",
            "action": "save",
        },
    )
    assert "Das Ablaufdatum muss nach dem Veröffentlichungsdatum liegen" in response.get_data(as_text=True)


def test_drafts_list_only_my_private_items(editor: FlaskClient, admin: FlaskClient, place: Place) -> None:
    _write_news(editor, place, "Mein Entwurf")
    _write_news(admin, place, "Entwurf der Verwaltung")
    drafts = editor.get(url(place.commune, "drafts")).get_data(as_text=True)
    assert "Mein Entwurf" in drafts and "Entwurf der Verwaltung" not in drafts


def test_every_state_change_is_audited(editor: FlaskClient, admin: FlaskClient, place: Place) -> None:
    item = _write_news(editor, place)
    _step(editor, place, item, "submit")
    _step(admin, place, item, "publish")
    assert audit_actions(place.commune).count(AuditAction.CONTENT_STATE_CHANGED) == 2
