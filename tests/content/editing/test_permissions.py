"""Who may use the editors' screens: editors and admins of the commune, nobody else."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from staff.builders import log_in, make_user

from app.content.editing import services
from app.content.models import Page
from app.extensions import db
from app.staff.models import Role

from .conftest import Place
from .helpers import url


def _a_page(place: Place) -> Page:
    page = services.create_page(place.commune, place.editor, title="Rathaus")
    db.session.commit()
    return page


def _all_urls(place: Place, page: Page) -> list[tuple[str, str]]:
    return [
        ("get", url(place.commune)),
        ("get", url(place.commune, "drafts")),
        ("get", url(place.commune, "review")),
        ("get", url(place.commune, "pages/new")),
        ("post", url(place.commune, "pages/new")),
        ("get", url(place.commune, f"pages/{page.id}")),
        ("post", url(place.commune, f"pages/{page.id}")),
        ("post", url(place.commune, f"pages/{page.id}/move")),
        ("post", url(place.commune, f"pages/{page.id}/reorder")),
        ("post", url(place.commune, f"pages/{page.id}/delete")),
        ("post", url(place.commune, f"pages/{page.id}/workflow")),
        ("get", url(place.commune, f"pages/{page.id}/versions")),
        ("post", url(place.commune, f"pages/{page.id}/versions/1/restore")),
        ("post", url(place.commune, "preview")),
    ]


def test_a_clerk_cannot_edit_content(app: Flask, place: Place) -> None:
    page = _a_page(place)
    clerk = place.client(app, place.clerk)
    for method, target in _all_urls(place, page):
        assert (
            getattr(clerk, method)(target, data={"title": "x", "transition": "publish"}).status_code == 403
        ), target
    assert db.session.get(Page, page.id) is not None


def test_an_editor_of_another_commune_gets_404_everywhere(app: Flask, place: Place, foreign: Place) -> None:
    page = _a_page(place)
    stranger = foreign.client(app, foreign.editor)
    for method, target in _all_urls(place, page):
        assert (
            getattr(stranger, method)(target, data={"title": "x", "transition": "publish"}).status_code == 404
        ), target


def test_another_communes_item_is_404_under_ones_own_commune(
    app: Flask, place: Place, foreign: Place
) -> None:
    page = _a_page(place)
    own = foreign.client(app, foreign.editor)
    for rest in (f"pages/{page.id}", f"pages/{page.id}/versions"):
        assert own.get(url(foreign.commune, rest)).status_code == 404
    assert own.post(url(foreign.commune, f"pages/{page.id}/delete")).status_code == 404
    assert db.session.get(Page, page.id) is not None


def test_a_new_page_under_another_communes_parent_is_404(
    editor: FlaskClient, place: Place, foreign: Place
) -> None:
    parent = _a_page(foreign)
    response = editor.post(
        url(place.commune, f"pages/new?parent={parent.id}"), data={"title": "x", "action": "save"}
    )
    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_the_login(client: FlaskClient, place: Place) -> None:
    response = client.get(url(place.commune))
    assert response.status_code == 302 and "/staff/login" in response.location


@pytest.mark.parametrize("role", [Role.EDITOR, Role.COMMUNE_ADMIN])
def test_editors_and_admins_see_the_content_section(app: Flask, place: Place, role: Role) -> None:
    user = place.editor if role is Role.EDITOR else place.admin
    client = place.client(app, user)
    assert client.get(url(place.commune)).status_code == 200
    assert f'href="/staff/{place.commune.slug}/content/"' in client.get("/staff/").get_data(as_text=True)


def test_an_association_admin_may_edit_every_communes_content(app: Flask, place: Place) -> None:
    admin = make_user(Role.ASSOCIATION_ADMIN)
    client = app.test_client()
    log_in(client, admin)
    response = client.post(url(place.commune, "pages/new"), data={"title": "Verbandsseite", "action": "save"})
    assert response.status_code == 302
    assert db.session.scalar(select(Page).where(Page.slug == "verbandsseite")) is not None
