"""Every save keeps a version; two versions can be compared and an earlier one restored."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from app.content import services as content_services
from app.content.editing import services
from app.content.editing.versions import diff_versions
from app.content.models import Page
from app.extensions import db
from app.staff.models import AuditAction

from .conftest import Place
from .helpers import audit_actions, reload, url


def _page_with_history(client: FlaskClient, place: Place) -> Page:
    client.post(
        url(place.commune, "pages/new"),
        data={"title": "Abfall", "body": "Zeile eins\nZeile zwei\nZeile drei", "action": "save"},
    )
    page = db.session.scalar(select(Page).where(Page.commune_id == place.commune.id, Page.slug == "abfall"))
    assert page is not None
    client.post(
        url(place.commune, f"pages/{page.id}"),
        data={
            "title": "Abfall und Wertstoffe",
            "slug": "abfall",
            "body": "Zeile eins\nZeile 2\nZeile drei\nNeu",
            "action": "save",
        },
    )
    return reload(page)  # type: ignore[return-value]


def test_each_save_keeps_who_and_when(editor: FlaskClient, admin: FlaskClient, place: Place) -> None:
    page = _page_with_history(editor, place)
    admin.post(
        url(place.commune, f"pages/{page.id}"),
        data={"title": "Abfall", "slug": "abfall", "body": "Kurz", "action": "save"},
    )
    versions = services.versions_of(page)
    assert [v.number for v in versions] == [3, 2, 1]
    assert [v.author_id for v in versions] == [place.admin.id, place.editor.id, place.editor.id]
    assert all(v.created_at is not None for v in versions)
    listing = editor.get(url(place.commune, f"pages/{page.id}/versions")).get_data(as_text=True)
    assert place.admin.name in listing and place.editor.name in listing
    assert "Version 1 wiederherstellen" in listing


def test_the_diff_marks_removed_and_added_lines(editor: FlaskClient, place: Place) -> None:
    page = _page_with_history(editor, place)
    old, new = services.versions_of(page)[1], services.versions_of(page)[0]
    diffs = {d.name: d for d in diff_versions(old, new)}
    assert set(diffs) == {"title", "body"}
    body = [(line.old, line.new) for line in diffs["body"].lines]
    assert body == [
        ("Zeile eins", "Zeile eins"),
        ("Zeile zwei", "Zeile 2"),
        ("Zeile drei", "Zeile drei"),
        (None, "Neu"),
    ]
    html = editor.get(url(place.commune, f"pages/{page.id}/versions/compare?old=1&new=2")).get_data(
        as_text=True
    )
    assert '<del><span class="visually-hidden">entfernt: </span>Zeile zwei</del>' in html
    assert '<ins><span class="visually-hidden">hinzugefügt: </span>Zeile 2</ins>' in html
    assert "<caption" in html and '<th scope="col">Version 1</th>' in html


def test_comparing_unknown_versions_is_a_404(editor: FlaskClient, place: Place) -> None:
    page = _page_with_history(editor, place)
    for query in ("old=1&new=9", "old=x&new=2", ""):
        assert editor.get(url(place.commune, f"pages/{page.id}/versions/compare?{query}")).status_code == 404


def test_restoring_an_earlier_version_makes_a_new_one(editor: FlaskClient, place: Place) -> None:
    page = _page_with_history(editor, place)
    response = editor.post(url(place.commune, f"pages/{page.id}/versions/1/restore"))
    assert response.status_code == 302
    page = reload(page)  # type: ignore[assignment]
    assert (page.title, page.body) == ("Abfall", "Zeile eins\nZeile zwei\nZeile drei")
    versions = services.versions_of(page)
    assert [v.number for v in versions] == [3, 2, 1]
    assert versions[0].note == "Wiederhergestellt aus Version 1"
    assert AuditAction.CONTENT_CHANGED in audit_actions(place.commune)
    assert not diff_versions(versions[2], versions[0])


def test_restoring_a_slug_that_a_sibling_took_meanwhile_is_refused(editor: FlaskClient, place: Place) -> None:
    page = _page_with_history(editor, place)
    editor.post(
        url(place.commune, f"pages/{page.id}"),
        data={"title": "Abfall", "slug": "muell", "body": "", "action": "save"},
    )
    editor.post(url(place.commune, "pages/new"), data={"title": "Abfall", "slug": "abfall", "action": "save"})
    response = editor.post(url(place.commune, f"pages/{page.id}/versions/1/restore"), follow_redirects=True)
    assert "Auf dieser Ebene gibt es schon eine Seite" in response.get_data(as_text=True)
    assert reload(page).slug == "muell"


def test_a_version_of_another_item_cannot_be_restored(editor: FlaskClient, place: Place) -> None:
    page = _page_with_history(editor, place)
    assert editor.post(url(place.commune, f"pages/{page.id}/versions/7/restore")).status_code == 404


def test_content_made_elsewhere_keeps_its_first_state_as_version_one(
    editor: FlaskClient, place: Place
) -> None:
    """Demo content and items made outside these screens have no version until their first change."""
    page = content_services.create_page(place.commune, "Altbestand", body="Alter Text")
    db.session.commit()
    assert services.versions_of(page) == []
    editor.post(
        url(place.commune, f"pages/{page.id}"),
        data={"title": "Altbestand", "slug": "altbestand", "body": "Neuer Text", "action": "save"},
    )
    baseline, edited = reversed(services.versions_of(page))
    assert (baseline.number, baseline.note, baseline.author_id) == (1, "Ausgangsstand", None)
    assert baseline.fields["body"] == "Alter Text" and edited.fields["body"] == "Neuer Text"
    editor.post(url(place.commune, f"pages/{page.id}/versions/1/restore"))
    assert reload(page).body == "Alter Text"
