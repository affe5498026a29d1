"""Which language a page is in, and how a page names its other language versions."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, refresh
from lxml import html
from werkzeug.test import TestResponse

from app.i18n import LANG_COOKIE, current_language, select_locale


def _get(client: FlaskClient, url: str, **kwargs: object) -> TestResponse:
    # The suite keeps one app context open per test, and Flask-Babel caches the locale
    # on it: forget it, so each request chooses its language afresh as in production.
    refresh()
    return client.get(url, **kwargs)


def _page(client: FlaskClient, url: str = "/", **kwargs: object) -> html.HtmlElement:
    response = _get(client, url, **kwargs)
    assert response.status_code == 200
    return html.fromstring(response.get_data(as_text=True))


def _lang(client: FlaskClient, url: str = "/", **kwargs: object) -> str:
    return _page(client, url, **kwargs).get("lang")


def test_german_is_the_default(client: FlaskClient) -> None:
    assert _lang(client) == "de"


def test_query_parameter_chooses_the_language(client: FlaskClient) -> None:
    for code in ("de", "en", "pl", "dsb"):
        assert _lang(client, f"/?lang={code}") == code


def test_unknown_language_in_the_query_is_ignored(client: FlaskClient) -> None:
    assert _lang(client, "/?lang=xx", headers={"Accept-Language": "pl"}) == "pl"
    assert _lang(client, "/?lang=../../etc") == "de"


def test_chosen_language_is_remembered_in_a_cookie(client: FlaskClient) -> None:
    response = _get(client, "/?lang=pl")
    cookie = client.get_cookie(LANG_COOKIE)
    assert cookie is not None and cookie.value == "pl"
    assert cookie.http_only
    assert "SameSite=Lax" in response.headers["Set-Cookie"]
    assert _lang(client, "/") == "pl"
    assert _lang(client, "/", headers={"Accept-Language": "en"}) == "pl"


def test_query_parameter_beats_the_cookie(client: FlaskClient) -> None:
    client.set_cookie(LANG_COOKIE, "pl")
    assert _lang(client, "/?lang=en") == "en"
    assert client.get_cookie(LANG_COOKIE).value == "en"


def test_invalid_cookie_is_ignored(client: FlaskClient) -> None:
    client.set_cookie(LANG_COOKIE, "klingon")
    assert _lang(client, "/", headers={"Accept-Language": "en-GB,en;q=0.8"}) == "en"


def test_accept_language_chooses_when_nothing_else_does(client: FlaskClient) -> None:
    assert _lang(client, headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"}) == "pl"
    assert _lang(client, headers={"Accept-Language": "dsb, de;q=0.7"}) == "dsb"
    assert _lang(client, headers={"Accept-Language": "fr-FR, en;q=0.3"}) == "en"
    assert _lang(client, headers={"Accept-Language": "fr-FR, it"}) == "de"


def test_no_cookie_without_an_explicit_choice(client: FlaskClient) -> None:
    response = _get(client, "/", headers={"Accept-Language": "pl"})
    assert "Set-Cookie" not in response.headers or LANG_COOKIE + "=" not in response.headers["Set-Cookie"]


def test_pages_say_they_vary_by_language(client: FlaskClient) -> None:
    response = _get(client, "/", headers={"Accept-Language": "en"})
    assert {"Accept-Language", "Cookie"} <= set(response.vary)
    assert response.headers["Content-Language"] == "en"


def test_hreflang_alternates_name_every_language_with_absolute_urls(client: FlaskClient) -> None:
    page = _page(client, "/search?q=Kita&lang=pl")
    alternates = {
        link.get("hreflang"): link.get("href") for link in page.xpath("//head/link[@rel='alternate']")
    }
    assert alternates == {
        "de": "http://localhost/search?q=Kita&lang=de",
        "en": "http://localhost/search?q=Kita&lang=en",
        "pl": "http://localhost/search?q=Kita&lang=pl",
        "dsb": "http://localhost/search?q=Kita&lang=dsb",
        "x-default": "http://localhost/search?q=Kita",
    }


def test_hreflang_alternates_use_the_public_base_url(client: FlaskClient) -> None:
    client.application.config["PUBLIC_BASE_URL"] = "https://portal.example.de"
    try:
        page = _page(client, "/")
    finally:
        client.application.config["PUBLIC_BASE_URL"] = ""
    hrefs = page.xpath("//head/link[@rel='alternate']/@href")
    assert hrefs and all(href.startswith("https://portal.example.de/") for href in hrefs)


def test_language_switcher_names_each_language_in_itself(client: FlaskClient) -> None:
    page = _page(client, "/?lang=en")
    switcher = page.xpath("//nav[contains(@class, 'language-switcher')]")
    assert len(switcher) == 1 and switcher[0].get("aria-label")
    links = switcher[0].xpath(".//a")
    assert [(a.text_content().strip(), a.get("lang"), a.get("hreflang")) for a in links] == [
        ("Deutsch", "de", "de"),
        ("English", "en", "en"),
        ("Polski", "pl", "pl"),
        ("Dolnoserbšćina", "dsb", "dsb"),
    ]
    current = [a.get("lang") for a in links if a.get("aria-current")]
    assert current == ["en"]


def test_switcher_links_keep_the_page_and_its_arguments(client: FlaskClient) -> None:
    page = _page(client, "/search?q=Hund")
    hrefs = page.xpath("//nav[contains(@class, 'language-switcher')]//a/@href")
    assert all(href.startswith("/search?") and "q=Hund" in href for href in hrefs)


def test_outside_a_request_the_language_is_german(app: Flask) -> None:
    """Commands and the delivery worker translate without a request: German, unless forced."""
    with app.app_context():
        refresh()
        assert select_locale() == "de"
        assert current_language() == "de"
        with force_locale("pl"):
            assert current_language() == "pl"
