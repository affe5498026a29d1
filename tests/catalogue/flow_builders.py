"""Builders for the catalogue and citizen-flow tests: test forms, a commune offering them.

The probe form ("probeantrag") has four steps: a person step whose answer "firma" shows a
company step, a step with a fieldset (photo upload) shown only for one option of a select
in the same step, and a consent step. The service costs 20.00 EUR, the photo option 5.00.
"auskunft" is an information-only service.
"""

from __future__ import annotations

import io
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
from app.formspec import Catalogue, load_catalogue
from app.tenancy.models import Commune, Office

PROBE = "probeantrag"
INFO = "auskunft"

PROBE_YAML = """\
title: Probeantrag
short_text: Ein Antrag, an dem die Tests den Weg durch das Formular prüfen.
description: |
  Mit dem Probeantrag melden Sie **Lärm** oder wilden Müll.
audience: Alle Einwohnerinnen und Einwohner.
required_documents:
  - ein Foto des Mülls
fees:
  text: Die Bearbeitung kostet 20 Euro.
  rules:
    - label: Bearbeitungsgebühr
      amount: "20.00"
legal_basis:
  - Probesatzung § 1
processing_time: etwa eine Woche
office_kind: ordnungsamt
leika_key: "99000000000000"
topic: Ordnung und Sicherheit
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
              required: false
            - name: rolle
              type: radio
              label: Für wen stellen Sie den Antrag?
              options:
                - value: privat
                  label: für mich selbst
                - value: firma
                  label: für eine Firma
    - name: firma
      title: Angaben zur Firma
      show_if:
        field: rolle
        equals: firma
      fieldsets:
        - name: betrieb
          fields:
            - name: firmenname
              type: text
              label: Name der Firma
    - name: anliegen
      title: Ihr Anliegen
      fieldsets:
        - name: grund
          fields:
            - name: art
              type: select
              label: Was möchten Sie melden?
              options:
                - value: laerm
                  label: Lärm
                - value: muell
                  label: wilden Müll
                  fee: "5.00"
            - name: seit
              type: date
              label: Seit wann?
              required: false
              max: today
            - name: beschreibung
              type: textarea
              label: Beschreibung
              required: false
              max_length: 500
        - name: foto
          legend: Foto
          show_if:
            field: art
            equals: muell
          fields:
            - name: bild
              type: file
              label: Foto des Mülls
              accept: [image/png, image/jpeg]
              max_size: 1 MB
    - name: abschluss
      title: Datenschutz
      fieldsets:
        - name: zustimmung
          fields:
            - name: datenschutz
              type: consent
              label: Ich habe die Datenschutzhinweise gelesen.
"""

INFO_YAML = """\
title: Auskunft aus dem Archiv
short_text: Wie Sie eine Auskunft aus dem Stadtarchiv bekommen.
description: Das Stadtarchiv gibt Auskunft nach Terminvereinbarung.
office_kind: hauptamt
topic: Bürgerservice
online: false
"""


def png_bytes(seed: int = 0) -> bytes:
    """A valid 1×1 PNG; ``seed`` changes its pixel (and so its hash)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes([seed % 256, (seed // 256) % 256, 0]))
    body = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def upload(data: bytes, filename: str = "foto.png") -> tuple[io.BytesIO, str]:
    """A file for the test client's form data."""
    return io.BytesIO(data), filename


def write_forms(forms_dir: Path, extra: dict[str, str] | None = None) -> Path:
    """A FORMS_DIR with the probe and info services (and ``extra``: relative path → YAML)."""
    files = {f"catalogue/{PROBE}.yaml": PROBE_YAML, f"catalogue/{INFO}.yaml": INFO_YAML, **(extra or {})}
    for name, text in files.items():
        path = forms_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return forms_dir


@contextmanager
def serving(app: Flask, forms_dir: Path) -> Iterator[Catalogue]:
    """Serve the catalogue of ``forms_dir`` in ``app`` for the duration."""
    catalogue = load_catalogue(forms_dir)
    assert not catalogue.errors, [str(error) for error in catalogue.errors]
    previous = app.extensions.get(EXTENSION_KEY)
    app.extensions[EXTENSION_KEY] = catalogue
    try:
        yield catalogue
    finally:
        app.extensions[EXTENSION_KEY] = previous


@dataclass
class Site:
    """A commune with offices and the services it offers, for one test."""

    commune: Commune
    office: Office
    catalogue: Catalogue

    @property
    def base(self) -> str:
        return f"/{self.commune.slug}/services"


def offer(commune: Commune, slug: str, office: Office | None, **fields: Any) -> CommuneService:
    """Switch a service on in a commune (committed)."""
    choice = CommuneService(
        commune_id=commune.id,
        service_slug=slug,
        office_id=office.id if office is not None else None,
        **fields,
    )
    db.session.add(choice)
    db.session.commit()
    return choice


def make_site(
    catalogue: Catalogue, slug: str = "teststadt", services: tuple[str, ...] = (PROBE, INFO)
) -> Site:
    """A commune with an Ordnungsamt and a Hauptamt offering ``services``."""
    commune = make_commune(slug, name="Teststadt")
    office = make_office(commune, slug="ordnungsamt", name="Ordnungsamt", kind="ordnungsamt")
    archive = make_office(commune, slug="hauptamt", name="Hauptamt", kind="hauptamt")
    for position, service in enumerate(services):
        spec = catalogue.get(service, commune.slug)
        target = archive if spec is not None and spec.office_kind == "hauptamt" else office
        offer(commune, service, target, position=position)
    return Site(commune=commune, office=office, catalogue=catalogue)
