"""Builders for the submission pipeline's tests: a form, a commune offering it, complete drafts.

The test form ("testantrag") asks for a name and e-mail address (autocomplete ``name`` and
``email``), a choice with a fee, a text with characters of German, Polish and Lower Sorbian,
and one uploaded file; the service has a base fee of 10.00 EUR.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factories import make_commune, make_office
from flask import Flask

from app.catalogue.models import CommuneService
from app.catalogue.services import EXTENSION_KEY
from app.extensions import db
from app.formspec import ServiceSpec, inspect_upload, load_catalogue
from app.storage import blob_store
from app.submissions.drafts import create_draft
from app.submissions.models import Draft
from app.tenancy.models import Commune, Office

SERVICE_SLUG = "testantrag"

FORM_YAML = """\
slug: testantrag
title: Testantrag für Bürgerinnen und Bürger
short_text: Ein Antrag, an dem die Tests das Absenden prüfen.
description: Beschreibung des Testantrags.
office_kind: ordnungsamt
topic: Test
processing_time: etwa zwei Wochen
online: true
fees:
  text: 10 Euro, Eilbearbeitung 5 Euro mehr
  rules:
    - label: Grundgebühr
      amount: 10.00
form:
  steps:
    - name: person
      title: Angaben zur Person
      fieldsets:
        - name: kontakt
          legend: Kontakt
          fields:
            - name: name
              type: text
              label: Vor- und Nachname
              autocomplete: name
            - name: email
              type: email
              label: E-Mail-Adresse
              autocomplete: email
              required: false
    - name: antrag
      title: Ihr Anliegen
      fieldsets:
        - name: anliegen
          legend: Anliegen
          fields:
            - name: bearbeitung
              type: radio
              label: Bearbeitung
              options:
                - value: normal
                  label: Normal
                - value: eilig
                  label: Eilig
                  fee: 5.00
            - name: anmerkung
              type: textarea
              label: Anmerkung
              required: false
    - name: nachweise
      title: Nachweise
      fieldsets:
        - name: dateien
          legend: Nachweise
          fields:
            - name: nachweis
              type: file
              label: Nachweis
              accept: [image/png, application/pdf]
        - name: zustimmung
          legend: Datenschutz
          fields:
            - name: datenschutz
              type: consent
              label: Ich habe die Datenschutzhinweise gelesen.
"""

POLISH = "Zażółć gęślą jaźń"
SORBIAN = "Dolnoserbšćina: Chóśebuz, Łužyca"


def png_bytes(seed: int = 0, size: int = 0) -> bytes:
    """A valid PNG (1×1 pixel); ``size`` pads it with a text chunk to about that many bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes([seed % 256, 0, 0]))
    padding = b"" if size <= 0 else chunk(b"tEXt", b"pad\x00" + os.urandom(size // 2).hex().encode()[:size])
    body = chunk(b"IHDR", header) + padding + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def write_forms(forms_dir: Path, extra: dict[str, str] | None = None) -> Path:
    """A FORMS_DIR with the test form (and ``extra`` files: name → YAML) in its catalogue."""
    catalogue = forms_dir / "catalogue"
    catalogue.mkdir(parents=True, exist_ok=True)
    (catalogue / f"{SERVICE_SLUG}.yaml").write_text(FORM_YAML, encoding="utf-8")
    for name, text in (extra or {}).items():
        (catalogue / name).write_text(text, encoding="utf-8")
    return forms_dir


@contextmanager
def serving_catalogue(app: Flask, forms_dir: Path) -> Iterator[ServiceSpec]:
    """Serve the catalogue of ``forms_dir`` in ``app`` for the duration; yields the test service."""
    catalogue = load_catalogue(forms_dir)
    assert not catalogue.errors, [str(error) for error in catalogue.errors]
    previous = app.extensions.get(EXTENSION_KEY)
    app.extensions[EXTENSION_KEY] = catalogue
    try:
        yield catalogue.services[SERVICE_SLUG]
    finally:
        if previous is None:
            app.extensions.pop(EXTENSION_KEY, None)
        else:
            app.extensions[EXTENSION_KEY] = previous


@dataclass
class Setting:
    """A commune that offers the test service, its receiving office and its choice row."""

    commune: Commune
    office: Office
    choice: CommuneService
    service: ServiceSpec


def offer_service(
    service: ServiceSpec, *, commune: Commune | None = None, **choice: Any
) -> Setting:
    """A commune (new unless given) that offers ``service`` with an office receiving it by e-mail."""
    commune = commune or make_commune()
    office = make_office(
        commune, kind=service.office_kind, name="Ordnungsamt", email="ordnungsamt@example.org"
    )
    values: dict[str, Any] = {"commune_id": commune.id, "service_slug": service.slug, "office_id": office.id}
    values.update(choice)
    row = CommuneService(**values)
    db.session.add(row)
    db.session.commit()
    return Setting(commune=commune, office=office, choice=row, service=service)


def stored_upload(data: bytes, filename: str = "nachweis.png") -> dict[str, Any]:
    """Store an upload as the flow does and return its answer value."""

    class _Upload:
        def __init__(self) -> None:
            self.filename = filename
            self.stream = io.BytesIO(data)

    info = inspect_upload(_Upload())
    blob = blob_store().put(info.data)
    return info.metadata(blob.key)


def complete_answers(**overrides: Any) -> dict[str, Any]:
    """Answers that complete every step of the test form (a fresh upload each time)."""
    answers: dict[str, Any] = {
        "name": "Jürgen Groß",
        "email": "juergen@example.org",
        "bearbeitung": "eilig",
        "anmerkung": f"Straße\n{POLISH}\n{SORBIAN}",
        "nachweis": stored_upload(png_bytes(), "Nachweis für Jürgen.png"),
        "datenschutz": True,
    }
    answers.update(overrides)
    return {key: value for key, value in answers.items() if value is not None}


def make_draft(
    setting: Setting, answers: dict[str, Any] | None = None, *, locale: str = "de"
) -> tuple[Draft, str]:
    """A committed draft of the test service with ``answers`` (complete ones by default)."""
    draft, token = create_draft(setting.commune, setting.service, locale=locale)
    draft.answers = complete_answers() if answers is None else answers
    draft.completed_steps = ["person", "antrag", "nachweise"]
    db.session.commit()
    return draft, token


def blob_count(root: str | os.PathLike[str]) -> int:
    """How many blobs the store under ``root`` holds."""
    path = Path(root)
    if not path.exists():
        return 0
    return sum(1 for item in path.rglob("*") if item.is_file() and not item.name.startswith("."))
