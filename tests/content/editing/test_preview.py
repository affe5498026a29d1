"""The Markdown preview (button and live endpoint) and script in Markdown or titles."""

from __future__ import annotations

import lxml.html
from flask import Config, Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.content.models import NewsItem, Page
from app.extensions import db

from .conftest import Place
from .helpers import url

SCRIPT_BODY = (
    '## Hallo\n\n<script>alert("body")</script>\n\n[Klick](javascript:alert(1)) <img src=x onerror=alert(2)>'
)
SCRIPT_TITLE = '<script>alert("title")</script> Sommerfest'


def _assert_harmless(html: str) -> None:
    """No script element with the injected code, no event handler attribute, no javascript: link."""
    tree = lxml.html.fromstring(html)
    assert not [s for s in tree.iter("script") if "alert" in (s.text or "")]
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        assert not [name for name in element.attrib if name.lower().startswith("on")], element.tag
        assert not element.get("href", "").lower().startswith("javascript:")
        assert not element.get("src", "").lower().startswith("javascript:")


def test_the_preview_button_renders_sanitized_html_without_saving(editor: FlaskClient, place: Place) -> None:
    response = editor.post(
        url(place.commune, "pages/new"),
        data={"title": SCRIPT_TITLE, "body": SCRIPT_BODY, "action": "preview"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h2>Hallo</h2>" in html
    _assert_harmless(html)
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt; Sommerfest" in html
    assert db.session.scalar(select(Page).where(Page.title == SCRIPT_TITLE)) is None


def test_the_live_preview_endpoint_returns_the_sanitized_fragment(editor: FlaskClient, place: Place) -> None:
    response = editor.post(url(place.commune, "preview"), data={"body": SCRIPT_BODY})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert html.startswith("<h2>Hallo</h2>")
    _assert_harmless(html)
    assert "&lt;script&gt;" in html


def test_the_live_preview_needs_the_csrf_token(
    app: Flask, editor: FlaskClient, place: Place, app_config: Config
) -> None:
    app_config["WTF_CSRF_ENABLED"] = True
    assert editor.post(url(place.commune, "preview"), data={"body": "x"}).status_code == 400


def test_saving_needs_the_csrf_token(
    app: Flask, editor: FlaskClient, place: Place, app_config: Config
) -> None:
    app_config["WTF_CSRF_ENABLED"] = True
    response = editor.post(url(place.commune, "pages/new"), data={"title": "Ohne Token", "action": "save"})
    assert response.status_code in (200, 400)
    assert db.session.scalar(select(Page).where(Page.title == "Ohne Token")) is None


def test_the_edit_page_loads_the_live_preview_script(editor: FlaskClient, place: Place) -> None:
    html = editor.get(url(place.commune, "news/new")).get_data(as_text=True)
    assert "js/markdown-preview.js" in html
    assert f'data-preview-url="/staff/{place.commune.slug}/content/preview"' in html


def test_script_in_a_title_or_body_never_runs_on_the_public_site(
    admin: FlaskClient, client: FlaskClient, place: Place
) -> None:
    response = admin.post(
        url(place.commune, "news/new"),
        data={
            "title": SCRIPT_TITLE,
            "slug": "sommerfest",
            "news_date": "2026-06-01",
            "body": SCRIPT_BODY,
            "action": "save",
        },
    )
    assert response.status_code == 302
    item = db.session.scalar(select(NewsItem).where(NewsItem.slug == "sommerfest"))
    assert item is not None
    admin.post(url(place.commune, f"news/{item.id}/workflow"), data={"transition": "publish"})
    for path in (
        f"/{place.commune.slug}/news/sommerfest",
        f"/{place.commune.slug}/news/",
        f"/{place.commune.slug}/",
    ):
        html = client.get(path).get_data(as_text=True)
        assert "Sommerfest" in html, path
        _assert_harmless(html)
    staff_views = ("", f"news/{item.id}", f"news/{item.id}/versions", "drafts")
    for rest in staff_views:
        _assert_harmless(admin.get(url(place.commune, rest)).get_data(as_text=True))
