"""The shared layout's accessibility, checked on the HTML every page is built from.

Skip link first, landmarks (banner, labelled navigations, one main, contentinfo),
one h1, a page title, and the links to the accessibility statement and the page in
Leichte Sprache in the footer. The browser tests (tests/e2e) add axe-core and the
keyboard on top.
"""

from __future__ import annotations

import pytest
from factories import make_association, make_commune
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import refresh
from lxml import html

FOCUSABLE = (
    "//body//*[self::a[@href] or self::button or self::input[not(@type='hidden')]"
    " or self::select or self::textarea]"
)


def _tree(client: FlaskClient, url: str, status: int = 200) -> html.HtmlElement:
    refresh()
    response = client.get(url)
    assert response.status_code == status, f"{url}: {response.status_code}"
    return html.fromstring(response.get_data(as_text=True))


@pytest.fixture
def commune_slug(app: Flask) -> str:
    make_association()
    return make_commune("werneuchen", name="Werneuchen").slug


def _urls(slug: str) -> list[tuple[str, int]]:
    return [
        ("/", 200),
        ("/search?q=Kita", 200),
        (f"/{slug}/", 200),
        (f"/{slug}/contact", 200),
        (f"/{slug}/news/", 200),
        (f"/{slug}/gibt-es-nicht", 404),
    ]


def test_skip_link_is_the_first_stop_and_leads_to_main(client: FlaskClient, commune_slug: str) -> None:
    for url, status in _urls(commune_slug):
        tree = _tree(client, url, status)
        first = tree.xpath(FOCUSABLE)[0]
        assert first.get("href") == "#main", url
        assert first.text_content().strip(), url
        targets = tree.xpath("//*[@id='main']")
        assert [t.tag for t in targets] == ["main"], url
        assert targets[0].get("tabindex") == "-1", f"{url}: main must take focus from the skip link"


def test_landmarks_are_there_once_and_navigations_are_labelled(
    client: FlaskClient, commune_slug: str
) -> None:
    for url, status in _urls(commune_slug):
        tree = _tree(client, url, status)
        assert len(tree.xpath("//main")) == 1, url
        assert len(tree.xpath("//body/header")) == 1, url
        assert len(tree.xpath("//body/footer")) == 1, url
        labels = [nav.get("aria-label") or nav.get("aria-labelledby") for nav in tree.xpath("//nav")]
        assert all(labels), f"{url}: a <nav> without a label"
        assert len(set(labels)) == len(labels), f"{url}: two navigations share the label {labels}"


def test_every_page_has_one_h1_and_a_title(client: FlaskClient, commune_slug: str) -> None:
    for url, status in _urls(commune_slug):
        tree = _tree(client, url, status)
        assert len(tree.xpath("//h1")) == 1, url
        assert len(tree.xpath("//main//h1")) == 1, f"{url}: the h1 belongs in <main>"
        title = tree.findtext(".//title").strip()
        assert title and not title.startswith("–"), f"{url}: empty page title {title!r}"


def test_flash_messages_are_inside_main(client: FlaskClient, commune_slug: str, app: Flask) -> None:
    """Status messages sit in a landmark, where screen readers that jump to main find them."""
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Gespeichert")]
    tree = _tree(client, "/")
    notices = tree.xpath("//*[contains(@class, 'notice')]")
    assert notices and all(n.xpath("ancestor::main") for n in notices)
    assert notices[0].get("role") == "status"


@pytest.mark.parametrize("lang", ["de", "en", "pl", "dsb"])
def test_commune_pages_link_accessibility_statement_and_easy_language(
    client: FlaskClient, commune_slug: str, lang: str
) -> None:
    for url, status in _urls(commune_slug)[2:]:
        tree = _tree(client, f"{url}?lang={lang}", status)
        footer_links = tree.xpath("//footer//a/@href")
        assert f"/{commune_slug}/barrierefreiheit" in footer_links, url
        assert f"/{commune_slug}/leichte-sprache" in footer_links, url


def test_footer_names_the_pages_in_german(client: FlaskClient, commune_slug: str) -> None:
    tree = _tree(client, f"/{commune_slug}/")
    texts = [a.text_content().strip() for a in tree.xpath("//footer//a")]
    assert "Barrierefreiheit" in texts
    assert "Leichte Sprache" in texts


@pytest.mark.parametrize("lang", ["de", "en", "pl", "dsb"])
@pytest.mark.parametrize(
    ("url", "status"), [("/", 200), ("/search?q=Kita", 200), ("/staff/login", 200), ("/gibt/es/nicht", 404)]
)
def test_portal_pages_link_accessibility_statement_and_easy_language(
    client: FlaskClient, url: str, status: int, lang: str
) -> None:
    """Pages outside a commune link the association's statement and Leichte Sprache page."""
    make_association()
    tree = _tree(client, f"{url}{'&' if '?' in url else '?'}lang={lang}", status)
    footer_links = tree.xpath("//footer//a/@href")
    assert "/barrierefreiheit" in footer_links, url
    assert "/leichte-sprache" in footer_links, url
    if lang == "de":
        texts = [a.text_content().strip() for a in tree.xpath("//footer//a")]
        assert "Barrierefreiheit" in texts
        assert "Leichte Sprache" in texts


def test_commune_pages_do_not_link_the_association_pages(client: FlaskClient, commune_slug: str) -> None:
    """Inside a commune the footer leads to the commune's own statement, not the portal's."""
    tree = _tree(client, f"/{commune_slug}/")
    footer_links = tree.xpath("//footer//a/@href")
    assert "/barrierefreiheit" not in footer_links
    assert "/leichte-sprache" not in footer_links
