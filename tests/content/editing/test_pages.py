"""Pages through the editors' screens: create, edit, slugs, move, reorder, delete, required pages."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.content.editing import services
from app.content.editing.models import ContentVersion
from app.content.editing.required import REQUIRED_SLUGS, ensure_required_pages
from app.content.models import Page, PublicationState
from app.extensions import db
from app.staff.models import AuditAction

from .conftest import Place
from .helpers import audit_actions, reload, url


def _pages(place: Place) -> dict[str, Page]:
    db.session.expire_all()
    return {p.slug: p for p in db.session.scalars(select(Page).where(Page.commune_id == place.commune.id))}


def _new_page(client: FlaskClient, place: Place, title: str, parent: Page | None = None, **fields: str):
    target = url(place.commune, "pages/new") + (f"?parent={parent.id}" if parent else "")
    data = {"title": title, "slug": "", "body": "", "description": "", "in_navigation": "y", "action": "save"}
    data.update(fields)
    return client.post(target, data=data)


def test_editor_creates_a_private_page_with_a_slug_from_its_title(editor: FlaskClient, place: Place) -> None:
    response = _new_page(editor, place, "Straßenreinigung im Winter", body="## Räumpflicht")
    assert response.status_code == 302
    page = _pages(place)["strassenreinigung-im-winter"]
    assert page.state is PublicationState.PRIVATE
    assert page.created_by_id == place.editor.id
    versions = services.versions_of(page)
    assert [v.number for v in versions] == [1]
    assert versions[0].author_id == place.editor.id and versions[0].fields["body"] == "## Räumpflicht"
    assert AuditAction.CONTENT_CREATED in audit_actions(place.commune)


def test_a_subpage_is_created_under_its_parent(editor: FlaskClient, place: Place) -> None:
    _new_page(editor, place, "Rathaus")
    parent = _pages(place)["rathaus"]
    assert _new_page(editor, place, "Bürgermeister", parent=parent).status_code == 302
    assert _pages(place)["buergermeister"].parent_id == parent.id


def test_editing_saves_fields_and_a_new_version(editor: FlaskClient, place: Place) -> None:
    _new_page(editor, place, "Rathaus")
    page = _pages(place)["rathaus"]
    response = editor.post(
        url(place.commune, f"pages/{page.id}"),
        data={
            "title": "Das Rathaus",
            "slug": "rathaus-neu",
            "body": "Neu",
            "description": "",
            "action": "save",
        },
    )
    assert response.status_code == 302
    page = reload(page)
    assert (page.title, page.slug, page.body, page.in_navigation) == (
        "Das Rathaus",
        "rathaus-neu",
        "Neu",
        False,
    )
    assert [v.number for v in services.versions_of(page)] == [2, 1]
    assert AuditAction.CONTENT_CHANGED in audit_actions(place.commune)


def test_a_slug_that_a_sibling_has_is_refused_with_a_message(editor: FlaskClient, place: Place) -> None:
    _new_page(editor, place, "Rathaus")
    response = _new_page(editor, place, "Rathaus und Verwaltung", slug="rathaus")
    assert response.status_code == 200
    assert "Auf dieser Ebene gibt es schon eine Seite mit der Kurzadresse „rathaus“" in response.get_data(
        as_text=True
    )
    assert (
        db.session.scalar(
            select(func.count()).select_from(Page).where(Page.title == "Rathaus und Verwaltung")
        )
        == 0
    )


def test_the_same_slug_is_fine_under_another_parent(editor: FlaskClient, place: Place) -> None:
    _new_page(editor, place, "Rathaus")
    _new_page(editor, place, "Wirtschaft")
    assert (
        _new_page(editor, place, "Kontakt", parent=_pages(place)["rathaus"], slug="kontakte").status_code
        == 302
    )
    assert (
        _new_page(editor, place, "Kontakt", parent=_pages(place)["wirtschaft"], slug="kontakte").status_code
        == 302
    )


def test_reserved_first_segments_are_refused_at_the_top_level(editor: FlaskClient, place: Place) -> None:
    for slug in ("news", "events", "documents", "services", "search", "contact", "status", "coat-of-arms"):
        response = _new_page(editor, place, "Irgendwas", slug=slug)
        assert response.status_code == 200, slug
        assert f"Die Kurzadresse „{slug}“ ist für eine Funktion des Portals reserviert" in response.get_data(
            as_text=True
        )
    assert "news" not in _pages(place)


def test_a_malformed_slug_is_refused(editor: FlaskClient, place: Place) -> None:
    response = _new_page(editor, place, "Rathaus", slug="Rat haus/../x")
    assert response.status_code == 200
    assert "Kleinbuchstaben" in response.get_data(as_text=True)


def test_reserved_slugs_come_from_the_url_map(app: Flask) -> None:
    with app.test_request_context():
        reserved = services.reserved_page_slugs()
    assert {
        "news",
        "events",
        "documents",
        "services",
        "search",
        "contact",
        "status",
        "coat-of-arms",
    } <= reserved


def test_moving_a_page_under_its_own_descendant_is_refused(editor: FlaskClient, place: Place) -> None:
    _new_page(editor, place, "Rathaus")
    _new_page(editor, place, "Bürgermeister", parent=_pages(place)["rathaus"])
    _new_page(editor, place, "Sprechstunden", parent=_pages(place)["buergermeister"])
    pages = _pages(place)
    for target in (pages["sprechstunden"], pages["buergermeister"]):
        response = editor.post(
            url(place.commune, f"pages/{pages['rathaus'].id}/move"), data={"parent": target.id}
        )
        assert response.status_code == 200
        assert (
            "lässt sich nicht unter sich selbst oder eine ihrer Unterseiten verschieben"
            in response.get_data(as_text=True)
        )
    assert _pages(place)["rathaus"].parent_id is None


def test_a_page_moves_with_its_subtree(editor: FlaskClient, place: Place) -> None:
    _new_page(editor, place, "Rathaus")
    _new_page(editor, place, "Wirtschaft")
    _new_page(editor, place, "Bürgermeister", parent=_pages(place)["rathaus"])
    _new_page(editor, place, "Sprechstunden", parent=_pages(place)["buergermeister"])
    pages = _pages(place)
    response = editor.post(
        url(place.commune, f"pages/{pages['buergermeister'].id}/move"),
        data={"parent": pages["wirtschaft"].id},
    )
    assert response.status_code == 302
    pages = _pages(place)
    assert pages["buergermeister"].parent_id == pages["wirtschaft"].id
    assert pages["sprechstunden"].parent_id == pages["buergermeister"].id
    # And back to the top level.
    editor.post(url(place.commune, f"pages/{pages['buergermeister'].id}/move"), data={"parent": ""})
    assert _pages(place)["buergermeister"].parent_id is None


def test_a_move_into_a_level_with_the_same_slug_is_refused(editor: FlaskClient, place: Place) -> None:
    _new_page(editor, place, "Rathaus")
    _new_page(editor, place, "Wirtschaft")
    _new_page(editor, place, "Kontakt", parent=_pages(place)["rathaus"], slug="ansprechpartner")
    _new_page(editor, place, "Ansprechpartner", slug="ansprechpartner")
    pages = _pages(place)
    top = next(p for p in pages.values() if p.slug == "ansprechpartner" and p.parent_id is None)
    response = editor.post(url(place.commune, f"pages/{top.id}/move"), data={"parent": pages["rathaus"].id})
    assert response.status_code == 200
    assert "Auf dieser Ebene gibt es schon eine Seite" in response.get_data(as_text=True)


def test_reordering_swaps_neighbours(editor: FlaskClient, place: Place) -> None:
    _new_page(editor, place, "Rathaus")
    parent = _pages(place)["rathaus"]
    for title in ("Erste", "Zweite", "Dritte"):
        _new_page(editor, place, title, parent=parent)

    def order() -> list[str]:
        db.session.expire_all()
        return [p.slug for p in services.sibling_pages(place.commune.id, parent.id)]

    assert order() == ["erste", "zweite", "dritte"]
    pages = _pages(place)
    assert (
        editor.post(
            url(place.commune, f"pages/{pages['dritte'].id}/reorder"), data={"direction": "up"}
        ).status_code
        == 302
    )
    assert order() == ["erste", "dritte", "zweite"]
    editor.post(url(place.commune, f"pages/{pages['erste'].id}/reorder"), data={"direction": "down"})
    assert order() == ["dritte", "erste", "zweite"]
    # At the edge nothing changes.
    editor.post(url(place.commune, f"pages/{pages['dritte'].id}/reorder"), data={"direction": "up"})
    assert order() == ["dritte", "erste", "zweite"]
    assert (
        editor.post(
            url(place.commune, f"pages/{pages['dritte'].id}/reorder"), data={"direction": "x"}
        ).status_code
        == 302
    )
    assert order() == ["dritte", "erste", "zweite"]


def test_deleting_asks_first_and_removes_page_and_versions(editor: FlaskClient, place: Place) -> None:
    _new_page(editor, place, "Rathaus")
    page = _pages(place)["rathaus"]
    confirm = editor.get(url(place.commune, f"pages/{page.id}/delete"))
    assert confirm.status_code == 200 and "Endgültig löschen" in confirm.get_data(as_text=True)
    assert editor.post(url(place.commune, f"pages/{page.id}/delete")).status_code == 302
    assert "rathaus" not in _pages(place)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(ContentVersion)
            .where(ContentVersion.item_id == page.id, ContentVersion.kind == "page")
        )
        == 0
    )
    assert AuditAction.CONTENT_DELETED in audit_actions(place.commune)


def test_a_page_with_subpages_is_not_deleted(editor: FlaskClient, place: Place) -> None:
    _new_page(editor, place, "Rathaus")
    _new_page(editor, place, "Bürgermeister", parent=_pages(place)["rathaus"])
    response = editor.post(url(place.commune, f"pages/{_pages(place)['rathaus'].id}/delete"))
    assert response.status_code == 200
    assert "hat Unterseiten" in response.get_data(as_text=True)
    assert {"rathaus", "buergermeister"} <= set(_pages(place))


def test_every_commune_has_the_required_pages_published(place: Place) -> None:
    pages = _pages(place)
    assert set(pages) >= REQUIRED_SLUGS
    for slug in REQUIRED_SLUGS:
        assert pages[slug].state is PublicationState.PUBLISHED and pages[slug].parent_id is None
        assert not pages[slug].in_navigation
    assert place.commune.email in pages["barrierefreiheit"].body
    assert ensure_required_pages(place.commune) == []


def test_required_pages_are_reachable_on_the_public_site(client: FlaskClient, place: Place) -> None:
    for slug in REQUIRED_SLUGS:
        assert client.get(f"/{place.commune.slug}/{slug}").status_code == 200, slug


def test_required_pages_cannot_be_deleted(admin: FlaskClient, place: Place) -> None:
    for slug in REQUIRED_SLUGS:
        page = _pages(place)[slug]
        response = admin.post(url(place.commune, f"pages/{page.id}/delete"))
        assert response.status_code == 200
        assert "Pflichtseite" in response.get_data(as_text=True)
    assert set(_pages(place)) >= REQUIRED_SLUGS


def test_required_pages_keep_their_slug_place_and_state(admin: FlaskClient, place: Place) -> None:
    _new_page(admin, place, "Rathaus")
    pages = _pages(place)
    impressum = pages["impressum"]
    response = admin.post(
        url(place.commune, f"pages/{impressum.id}"),
        data={"title": "Impressum", "slug": "herausgeber", "body": "x", "action": "save"},
    )
    assert "Die Kurzadresse einer Pflichtseite lässt sich nicht ändern" in response.get_data(as_text=True)
    response = admin.post(
        url(place.commune, f"pages/{impressum.id}/move"), data={"parent": pages["rathaus"].id}
    )
    assert "Pflichtseite bleibt auf der obersten Ebene" in response.get_data(as_text=True)
    response = admin.post(
        url(place.commune, f"pages/{impressum.id}/workflow"), data={"transition": "retract"}
    )
    assert response.status_code == 302
    impressum = reload(impressum)
    assert (impressum.slug, impressum.parent_id, impressum.state) == (
        "impressum",
        None,
        PublicationState.PUBLISHED,
    )


def test_required_pages_can_be_edited(admin: FlaskClient, place: Place) -> None:
    impressum = _pages(place)["impressum"]
    response = admin.post(
        url(place.commune, f"pages/{impressum.id}"),
        data={"title": "Impressum", "slug": "impressum", "body": "## Herausgeber\n\nNeu", "action": "save"},
    )
    assert response.status_code == 302
    assert reload(impressum).body == "## Herausgeber\n\nNeu"


def test_the_accessibility_statement_keeps_a_feedback_address(admin: FlaskClient, place: Place) -> None:
    page = _pages(place)["barrierefreiheit"]
    response = admin.post(
        url(place.commune, f"pages/{page.id}"),
        data={
            "title": page.title,
            "slug": "barrierefreiheit",
            "body": "Alles barrierefrei.",
            "action": "save",
        },
    )
    assert response.status_code == 200
    assert "Kontaktmöglichkeit für Rückmeldungen" in response.get_data(as_text=True)
    assert place.commune.email in reload(page).body


def test_the_overview_lists_the_tree_with_actions(editor: FlaskClient, place: Place) -> None:
    _new_page(editor, place, "Rathaus")
    _new_page(editor, place, "Bürgermeister", parent=_pages(place)["rathaus"])
    body = editor.get(url(place.commune)).get_data(as_text=True)
    assert "Rathaus" in body and "Bürgermeister" in body and "Impressum" in body
    assert "Unterseite anlegen" in body and "Nach oben" in body


def test_an_editor_cannot_reorder_public_pages_where_review_is_required(
    editor: FlaskClient, admin: FlaskClient, place: Place
) -> None:
    _new_page(admin, place, "Rathaus")
    _new_page(admin, place, "Wirtschaft")
    wirtschaft = _pages(place)["wirtschaft"]
    admin.post(url(place.commune, f"pages/{wirtschaft.id}/workflow"), data={"transition": "publish"})
    response = editor.post(
        url(place.commune, f"pages/{wirtschaft.id}/reorder"), data={"direction": "up"}, follow_redirects=True
    )
    assert "ist veröffentlicht. Ändern oder löschen kann es nur" in response.get_data(as_text=True)
    order = [p.slug for p in services.sibling_pages(place.commune.id, None)]
    assert order.index("wirtschaft") > order.index("rathaus")


def test_a_deleted_page_leaves_the_public_search(
    admin: FlaskClient, client: FlaskClient, place: Place
) -> None:
    _new_page(admin, place, "Wertstoffhof", body="Öffnungszeiten des Wertstoffhofs")
    page = _pages(place)["wertstoffhof"]
    admin.post(url(place.commune, f"pages/{page.id}/workflow"), data={"transition": "publish"})
    search = f"/{place.commune.slug}/search?q=Wertstoffhof"
    assert "/wertstoffhof" in client.get(search).get_data(as_text=True)
    admin.post(url(place.commune, f"pages/{page.id}/delete"))
    assert "/wertstoffhof" not in client.get(search).get_data(as_text=True)
