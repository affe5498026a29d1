"""News images, events and documents: uploads are checked by content, resized, limited."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from flask import Config
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from app.content.models import Document, Event, NewsItem
from app.extensions import db
from app.storage import blob_store
from content.builders import PDF_BYTES

from .conftest import Place
from .helpers import reload, url


def _jpeg_with_gps(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), "#1d4f91")
    exif = Image.Exif()
    exif[0x010F] = "Kamerahersteller"  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 0.0)}  # GPS info
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _news(client: FlaskClient, place: Place, image: bytes | None, alt: str, **extra: str):
    data: dict[str, object] = {
        "title": "Sommerfest",
        "news_date": date.today().isoformat(),
        "body": "Kommen Sie vorbei.",
        "image_alt": alt,
        "action": "save",
        **extra,
    }
    if image is not None:
        data["image"] = (io.BytesIO(image), "foto.jpg")
    return client.post(url(place.commune, "news/new"), data=data, content_type="multipart/form-data")


def _only_news(place: Place) -> NewsItem | None:
    db.session.expire_all()
    return db.session.scalar(select(NewsItem).where(NewsItem.commune_id == place.commune.id))


def test_a_news_image_is_resized_and_stripped_of_exif(editor: FlaskClient, place: Place) -> None:
    original = _jpeg_with_gps(3200, 1800)
    assert Image.open(io.BytesIO(original)).getexif()
    response = _news(editor, place, original, "Festwiese mit Zelten")
    assert response.status_code == 302, response.get_data(as_text=True)
    item = _only_news(place)
    assert item is not None and item.image_key and item.image_alt == "Festwiese mit Zelten"
    stored = Image.open(io.BytesIO(blob_store().read(item.image_key)))
    assert stored.format == "JPEG" and stored.size == (1600, 900)
    assert not stored.getexif()
    assert item.image_type == "image/jpeg"


def test_a_png_stays_a_png_and_small_images_keep_their_size(editor: FlaskClient, place: Place) -> None:
    out = io.BytesIO()
    Image.new("RGBA", (400, 300), (0, 0, 0, 0)).save(out, format="PNG")
    assert _news(editor, place, out.getvalue(), "Logo").status_code == 302
    item = _only_news(place)
    assert item is not None and item.image_type == "image/png"
    assert Image.open(io.BytesIO(blob_store().read(item.image_key or ""))).size == (400, 300)


def test_an_image_without_alt_text_is_refused(editor: FlaskClient, place: Place) -> None:
    response = _news(editor, place, _jpeg_with_gps(100, 100), "  ")
    assert response.status_code == 200
    assert "Bitte beschreiben Sie das Bild in einem Alternativtext" in response.get_data(as_text=True)
    assert _only_news(place) is None


def test_removing_the_alt_text_of_an_existing_image_is_refused(editor: FlaskClient, place: Place) -> None:
    _news(editor, place, _jpeg_with_gps(100, 100), "Festwiese")
    item = _only_news(place)
    assert item is not None
    response = editor.post(
        url(place.commune, f"news/{item.id}"),
        data={"title": item.title, "news_date": date.today().isoformat(), "image_alt": "", "action": "save"},
    )
    assert "Alternativtext" in response.get_data(as_text=True)
    assert reload(item).image_alt == "Festwiese"
    editor.post(
        url(place.commune, f"news/{item.id}"),
        data={
            "title": item.title,
            "news_date": date.today().isoformat(),
            "remove_image": "y",
            "action": "save",
        },
    )
    item = reload(item)
    assert item.image_key is None and item.image_alt == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a" + b"\x00" * 40, "PNG-, JPEG- oder WebP-Datei"),
        (b"MZ\x90\x00" + b"\x00" * 200, "PNG-, JPEG- oder WebP-Datei"),
        (b"\x89PNG\r\n\x1a\n" + b"kaputt" * 20, "beschädigt"),
    ],
)
def test_images_that_are_not_supported_images_are_refused(
    editor: FlaskClient, place: Place, data: bytes, message: str
) -> None:
    response = _news(editor, place, data, "Bild")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _only_news(place) is None


def test_an_event_is_created_with_berlin_times_and_can_be_all_day(editor: FlaskClient, place: Place) -> None:
    response = editor.post(
        url(place.commune, "events/new"),
        data={
            "title": "Stadtfest",
            "starts_at": "2030-06-01T14:00",
            "ends_at": "2030-06-01T22:00",
            "location": "Marktplatz",
            "body": "",
            "action": "save",
        },
    )
    assert response.status_code == 302
    event = db.session.scalar(select(Event).where(Event.commune_id == place.commune.id))
    assert event is not None and event.starts_at.isoformat() == "2030-06-01T12:00:00+00:00"
    assert event.location == "Marktplatz"
    editor.post(
        url(place.commune, f"events/{event.id}"),
        data={
            "title": "Stadtfest",
            "slug": "stadtfest",
            "starts_at": "2030-06-01T14:00",
            "all_day": "y",
            "action": "save",
        },
    )
    event = reload(event)
    assert event.all_day and event.starts_at.isoformat() == "2030-05-31T22:00:00+00:00"
    response = editor.post(
        url(place.commune, f"events/{event.id}"),
        data={
            "title": "Stadtfest",
            "starts_at": "2030-06-01T14:00",
            "ends_at": "2030-06-01T10:00",
            "action": "save",
        },
    )
    assert "Das Ende darf nicht vor dem Beginn liegen" in response.get_data(as_text=True)


def test_a_news_slug_taken_by_another_news_item_is_refused(editor: FlaskClient, place: Place) -> None:
    _news(editor, place, None, "")
    response = _news(editor, place, None, "", slug="sommerfest")
    assert "Es gibt schon eine Nachricht mit der Kurzadresse „sommerfest“" in response.get_data(as_text=True)


def _xlsx() -> bytes:
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    return out.getvalue()


def _upload(
    client: FlaskClient, place: Place, data: bytes, filename: str, item_id: int | None = None, **extra: str
):
    target = url(place.commune, f"documents/{item_id}" if item_id else "documents/new")
    form: dict[str, object] = {"title": "Amtsblatt", "description": "", "body": "", "action": "save", **extra}
    form["file"] = (io.BytesIO(data), filename)
    return client.post(target, data=form, content_type="multipart/form-data")


def _documents(place: Place) -> list[Document]:
    db.session.expire_all()
    return list(db.session.scalars(select(Document).where(Document.commune_id == place.commune.id)))


@pytest.mark.parametrize(
    ("data", "filename", "media_type"),
    [
        (PDF_BYTES, "amtsblatt.pdf", "application/pdf"),
        (_xlsx(), "haushalt.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("Straße;Hausnummer\nAm Markt;1\n".encode(), "liste.csv", "text/csv"),
        (b"Hinweise zur Abfuhr\n", "hinweise.txt", "text/plain"),
    ],
)
def test_allowed_documents_are_stored_with_their_detected_type(
    editor: FlaskClient, place: Place, data: bytes, filename: str, media_type: str
) -> None:
    assert _upload(editor, place, data, filename).status_code == 302
    (document,) = _documents(place)
    assert document.media_type == media_type and document.filename == filename
    assert blob_store().read(document.file_key) == data


def test_a_document_named_pdf_but_made_of_something_else_gets_its_real_ending(
    editor: FlaskClient, place: Place
) -> None:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="PNG")
    assert _upload(editor, place, out.getvalue(), "bericht.pdf").status_code == 302
    (document,) = _documents(place)
    assert (document.media_type, document.filename) == ("image/png", "bericht.png")


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "satzung.pdf"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "programm"),
        (b"#!/bin/sh\nrm -rf /\n", "liste.txt"),
    ],
)
def test_executables_are_refused_whatever_their_name(
    editor: FlaskClient, place: Place, data: bytes, filename: str
) -> None:
    response = _upload(editor, place, data, filename)
    assert response.status_code == 200
    assert "Programme und ausführbare Dateien werden nicht angenommen" in response.get_data(as_text=True)
    assert _documents(place) == []


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"<html><script>alert(1)</script></html>", "seite.html"),
        (b"\x00\x01\x02binary", "daten.txt"),
        (b"", "leer.pdf"),
    ],
)
def test_other_types_are_refused_with_the_list_of_allowed_ones(
    editor: FlaskClient, place: Place, data: bytes, filename: str
) -> None:
    response = _upload(editor, place, data, filename)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert (
        "Erlaubt sind: PDF, ODT, ODS, DOCX, XLSX, PNG, JPEG, TXT, CSV" in body or "Die Datei ist leer" in body
    )
    assert _documents(place) == []


def test_a_document_above_the_size_limit_gets_a_clear_message(
    editor: FlaskClient, place: Place, app_config: Config
) -> None:
    app_config["CONTENT_MAX_DOCUMENT_BYTES"] = 1024 * 1024
    response = _upload(editor, place, PDF_BYTES + b"\n%" + b"x" * (1024 * 1024), "gross.pdf")
    assert response.status_code == 200
    assert "Die Datei ist zu groß. Erlaubt sind höchstens 1 MB." in response.get_data(as_text=True)
    assert _documents(place) == []


def test_an_upload_above_the_request_limit_gets_the_413_page(
    editor: FlaskClient, place: Place, app_config: Config
) -> None:
    """A 200 MB upload meets MAX_CONTENT_LENGTH; here the limit is lowered so the test stays light."""
    app_config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    response = _upload(editor, place, PDF_BYTES + b"x" * (3 * 1024 * 1024), "riesig.pdf")
    assert response.status_code == 413
    assert "zu groß" in response.get_data(as_text=True)
    assert _documents(place) == []


def test_replacing_the_file_keeps_the_documents_url(
    editor: FlaskClient, admin: FlaskClient, client: FlaskClient, place: Place
) -> None:
    _upload(editor, place, PDF_BYTES, "amtsblatt-1.pdf")
    (document,) = _documents(place)
    admin.post(url(place.commune, f"documents/{document.id}/workflow"), data={"transition": "publish"})
    public = f"/{place.commune.slug}/documents/{document.slug}"
    assert client.get(public).data == PDF_BYTES
    second = PDF_BYTES.replace(b"1.4", b"1.7")
    assert (
        _upload(admin, place, second, "amtsblatt-2.pdf", item_id=document.id, slug=document.slug).status_code
        == 302
    )
    (replaced,) = _documents(place)
    assert (replaced.id, replaced.slug, replaced.filename) == (document.id, document.slug, "amtsblatt-2.pdf")
    assert client.get(public).data == second


def test_a_document_needs_a_file(editor: FlaskClient, place: Place) -> None:
    response = editor.post(
        url(place.commune, "documents/new"),
        data={"title": "Amtsblatt", "action": "save"},
        content_type="multipart/form-data",
    )
    assert "Bitte wählen Sie die Datei aus" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0
