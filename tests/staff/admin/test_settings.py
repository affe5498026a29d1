"""The commune's profile: contact, branding colour (contrast), coat of arms, settings, Leitweg-IDs."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.staff.admin.branding import (
    MIN_CONTRAST,
    contrast_with_white,
    darker_shade,
    relative_luminance,
)
from app.staff.admin.services import AdminError, parse_leitweg_ids
from app.staff.models import AuditAction, AuditEntry, Role
from app.storage import blob_store
from staff.builders import log_in, make_user

from .conftest import Place

URL = "/staff/werneuchen/settings"


def _profile(**overrides: str) -> dict[str, str]:
    data = {
        "official_name": "Stadt Werneuchen",
        "street": "Am Markt 5",
        "postal_code": "16356",
        "town": "Werneuchen",
        "phone": "033398 8160",
        "email": "info@werneuchen.example",
        "website": "https://www.werneuchen.example",
        "opening_hours": "- Dienstag: 9–18 Uhr",
        "brand_colour": "#1d4f91",
        "leitweg_ids": "",
    }
    data.update(overrides)
    return data


def _png(size: tuple[int, int] = (60, 72), fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def test_wcag_contrast_of_white_text_matches_known_values() -> None:
    assert relative_luminance("#ffffff") == pytest.approx(1.0)
    assert contrast_with_white("#000000") == pytest.approx(21.0)
    assert contrast_with_white("#767676") == pytest.approx(4.54, abs=0.01)
    assert contrast_with_white("#777777") < MIN_CONTRAST


@pytest.mark.parametrize("colour", ["#ffcc00", "#3399ff", "#ff0000", "#777777", "#00ff00"])
def test_the_suggested_darker_shade_keeps_the_hue_and_passes(colour: str) -> None:
    import colorsys

    shade = darker_shade(colour)
    assert contrast_with_white(shade) >= MIN_CONTRAST

    def hls(c: str) -> tuple[float, float, float]:
        return colorsys.rgb_to_hls(*(int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)))

    assert hls(shade)[1] < hls(colour)[1]
    if hls(colour)[2] > 0:
        assert hls(shade)[0] == pytest.approx(hls(colour)[0], abs=0.02)


def test_profile_is_saved_with_an_audit_entry(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    response = client.post(
        URL, data=_profile(editors_may_publish="y", require_two_factor="y", leitweg_ids="12064000-0001-35")
    )
    assert response.status_code == 302
    db.session.expire_all()
    commune = place.commune
    assert commune.official_name == "Stadt Werneuchen" and commune.street == "Am Markt 5"
    assert commune.editors_may_publish and commune.require_two_factor
    assert commune.leitweg_ids == ["12064000-0001-35"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.COMMUNE_CHANGED))
    assert entry is not None and "editors_may_publish" in entry.details["changes"]


def test_a_light_brand_colour_is_refused_with_a_darker_suggestion(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    page = client.post(URL, data=_profile(brand_colour="#FFCC00"))
    assert page.status_code == 200
    assert "Fehler:" in page.text
    assert "nötig sind mindestens 4,5:1" in page.text
    suggestion = darker_shade("#ffcc00")
    assert f"Vorschlag: der dunklere Farbton {suggestion}" in page.text
    db.session.expire_all()
    assert place.commune.brand_colour != "#ffcc00"
    assert client.post(URL, data=_profile(brand_colour=suggestion)).status_code == 302
    db.session.expire_all()
    assert place.commune.brand_colour == suggestion


def test_a_colour_that_is_no_hex_value_is_refused(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    page = client.post(URL, data=_profile(brand_colour="red; }"))
    assert "Bitte geben Sie die Farbe als Hex-Wert an" in page.text


def test_a_website_that_is_no_web_address_and_a_bad_email_are_refused(
    client: FlaskClient, place: Place
) -> None:
    log_in(client, place.admin)
    page = client.post(URL, data=_profile(website="javascript:alert(1)"))
    assert "Bitte geben Sie die Website mit http:// oder https:// an" in page.text
    page = client.post(URL, data=_profile(email="info(at)werneuchen"))
    assert "Bitte geben Sie eine gültige E-Mail-Adresse an." in page.text
    db.session.expire_all()
    assert place.commune.website == ""


def test_leitweg_ids_are_checked_by_format_and_check_number() -> None:
    assert parse_leitweg_ids("12064000-0001-35\n\n991-03730-19") == ["12064000-0001-35", "991-03730-19"]
    assert parse_leitweg_ids("12064000-abc1-65 ") == ["12064000-ABC1-65"]
    for bad in ("12064000-0001-36", "1-03730-19", "12064000-0001", "abc"):
        with pytest.raises(AdminError):
            parse_leitweg_ids(bad)


def test_a_wrong_leitweg_id_gets_a_message_and_nothing_is_saved(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    page = client.post(URL, data=_profile(leitweg_ids="12064000-0001-36", street="Neue Straße 1"))
    assert "„12064000-0001-36“ ist keine gültige Leitweg-ID." in page.text
    db.session.expire_all()
    assert place.commune.street == "Am Markt 1"


def test_coat_of_arms_is_re_encoded_as_png_and_stored(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    response = client.post(
        URL + "/coat-of-arms",
        data={"arms-coat_of_arms": (io.BytesIO(_png(fmt="JPEG")), "wappen.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    key = place.commune.coat_of_arms_key
    assert key is not None and place.commune.coat_of_arms_type == "image/png"
    assert blob_store().read(key).startswith(b"\x89PNG\r\n\x1a\n")
    public = client.get("/werneuchen/coat-of-arms")
    assert public.status_code == 200 and public.data.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "wappen.svg",
            "SVG-Dateien",
        ),
        (b"MZ\x90\x00" + b"\x00" * 100, "wappen.png", "PNG-, JPEG- oder WebP-Bild"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "kaputt.png", "kein lesbares Bild"),
    ],
)
def test_coat_of_arms_of_the_wrong_type_is_refused(
    client: FlaskClient, place: Place, content: bytes, name: str, message: str
) -> None:
    log_in(client, place.admin)
    page = client.post(
        URL + "/coat-of-arms",
        data={"arms-coat_of_arms": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert page.status_code == 400
    assert message in page.text
    db.session.expire_all()
    assert place.commune.coat_of_arms_key is None


def test_coat_of_arms_larger_than_2_mb_is_refused(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    big = _png() + b"\x00" * (2 * 1024 * 1024)
    page = client.post(
        URL + "/coat-of-arms",
        data={"arms-coat_of_arms": (io.BytesIO(big), "wappen.png")},
        content_type="multipart/form-data",
    )
    assert "höchstens 2 MB" in page.text
    db.session.expire_all()
    assert place.commune.coat_of_arms_key is None


def test_only_the_communes_admins_reach_its_settings(
    client: FlaskClient, place: Place, foreign: Place
) -> None:
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.buergeramt])
    editor = make_user(Role.EDITOR, commune=place.commune)
    for user, status in ((clerk, 403), (editor, 403), (foreign.admin, 404)):
        client.post("/staff/logout")
        log_in(client, user)
        assert client.get(URL).status_code == status
        assert client.post(URL, data=_profile(brand_colour="#000000")).status_code == status
    db.session.expire_all()
    assert place.commune.brand_colour == "#1d4f91"
