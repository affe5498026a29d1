"""The Content-Security-Policy: strict, without a per-response nonce, so public pages can be cached."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from factories import make_association, make_commune
from flask import Flask
from flask.testing import FlaskClient
from lxml import html
from sqlalchemy import update

from app.extensions import db
from app.security import DEFAULT_BRAND_COLOUR, brand_style_source
from app.tenancy.models import Commune


def _policy(response: object) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]  # type: ignore[attr-defined]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _inline_styles(response: object) -> list[str]:
    tree = html.fromstring(response.get_data(as_text=True))  # type: ignore[attr-defined]
    return [style.text or "" for style in tree.xpath("//style")]


@pytest.fixture
def commune(app: Flask) -> Commune:
    make_association()
    return make_commune("wer", brand_colour="#2a6130")


@pytest.mark.parametrize("url", ["/wer/", "/wer/news/", "/wer/contact", "/wer/no-such-page"])
def test_commune_pages_allow_their_brand_style_by_its_hash(
    client: FlaskClient, commune: Commune, url: str
) -> None:
    for _ in range(2):  # rendered, then (where cached) from the page cache
        response = client.get(url)
        styles = _inline_styles(response)
        assert styles == [":root { --brand: #2a6130; }"]
        policy = _policy(response)
        assert policy["style-src"] == ["'self'", _sha256_source(styles[0])]
        assert policy["script-src"] == ["'self'"]


@pytest.mark.parametrize("url", ["/", "/search?q=x", "/staff/login", "/no/such/page"])
def test_pages_outside_a_commune_have_no_inline_style_at_all(client: FlaskClient, url: str) -> None:
    make_association()
    response = client.get(url)
    assert _inline_styles(response) == []
    assert _policy(response)["style-src"] == ["'self'"]


def test_the_policy_is_strict_and_the_same_for_every_reader(client: FlaskClient, commune: Commune) -> None:
    first = client.get("/wer/contact").headers["Content-Security-Policy"]
    second = client.application.test_client().get("/wer/contact").headers["Content-Security-Policy"]
    assert first == second
    assert "unsafe-inline" not in first and "nonce-" not in first
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'",
                      "frame-ancestors 'none'"):
        assert directive in first


def test_pages_carry_no_inline_script(client: FlaskClient, commune: Commune) -> None:
    for url in ("/", "/wer/", "/wer/news/", "/wer/services/"):
        tree = html.fromstring(client.get(url).get_data(as_text=True))
        assert all(script.get("src") for script in tree.xpath("//script")), url


def test_a_brand_colour_that_is_no_hex_colour_never_reaches_the_style(
    client: FlaskClient, commune: Commune
) -> None:
    """The admin form checks the colour; a row written otherwise must not inject CSS or markup."""
    db.session.execute(
        update(Commune).where(Commune.id == commune.id).values(brand_colour="red}</")
    )
    db.session.commit()
    response = client.application.test_client().get("/wer/news/")
    styles = _inline_styles(response)
    assert styles == [f":root {{ --brand: {DEFAULT_BRAND_COLOUR}; }}"]
    assert _sha256_source(styles[0]) in _policy(response)["style-src"]


def test_the_style_and_its_hash_depend_on_the_colour_alone(app: Flask) -> None:
    first = brand_style_source(Commune(brand_colour="#123abc"))
    assert first == brand_style_source(Commune(brand_colour="#123abc"))
    assert first[1] == _sha256_source(first[0])
    assert re.fullmatch(r"'sha256-[A-Za-z0-9+/]{43}='", first[1])
    assert brand_style_source(Commune(brand_colour="#000"))[1] != first[1]
