"""Builders for tests that need services, communes offering them, drafts and submissions.

Three test forms, each serving its own group of tests:

- The probe form ("probeantrag", :data:`PROBE_YAML`) walks the citizen flow. It has four
  steps: a person step whose answer "firma" shows a company step, a step with a fieldset
  (photo upload) shown only for one option of a select in the same step, and a consent
  step. The service costs 20.00 EUR, the photo option 5.00. Beside it, "auskunft"
  (:data:`INFO_YAML`) is an information-only service.
- The test form ("testantrag", :data:`TEST_FORM_YAML`) drives the submit pipeline. It asks
  for a name and e-mail address (autocomplete ``name`` and ``email``), a choice with a fee,
  a text with characters of German, Polish and Lower Sorbian, and one uploaded file; the
  service has a base fee of 10.00 EUR.
- The inbox form ("inboxtest", :data:`INBOX_FORM_YAML`) gives the clerk every kind of
  answer: a name and e-mail address, an address (four columns in exports), a number of
  dogs, colours (several choices), a remark and an optional file. :func:`make_submission`
  writes a submission exactly as the pipeline stores it (kept definition, answers,
  attachments, a stored PDF) but without rendering, so tests can make many quickly.

Shared by all three: writing a FORMS_DIR (:func:`write_forms`), serving its catalogue
(:func:`serving`), switching a service on in a commune (:func:`offer`), PNG uploads.
"""

from __future__ import annotations

import io
import itertools
import os
import struct
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factories import make_commune, make_office
from flask import Flask

from app.catalogue.models import CommuneService
from app.catalogue.services import EXTENSION_KEY
from app.extensions import db
from app.formspec import Catalogue, ServiceSpec, inspect_upload, load_catalogue
from app.storage import blob_store
from app.submissions.drafts import create_draft
from app.submissions.models import Attachment, Draft, Submission, SubmissionStatus
from app.submissions.services import hash_token, keep_definition, submitter_of
from app.tenancy.models import Commune, Office

PROBE = "probeantrag"
INFO = "auskunft"
SERVICE_SLUG = "testantrag"
INBOX_SLUG = "inboxtest"

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

TEST_FORM_YAML = """\
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

INBOX_FORM_YAML = """\
slug: inboxtest
title: Hundesteuer anmelden
short_text: Ein Antrag, an dem die Posteingangs-Tests arbeiten.
description: Beschreibung.
office_kind: ordnungsamt
topic: Test
online: true
retention_days: 30
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
            - name: anschrift
              type: address
              label: Anschrift
    - name: hund
      title: Ihr Hund
      fieldsets:
        - name: angaben
          legend: Angaben
          fields:
            - name: hunde
              type: integer
              label: Anzahl der Hunde
            - name: farben
              type: multicheckbox
              label: Fellfarben
              required: false
              options:
                - value: schwarz
                  label: Schwarz
                - value: braun
                  label: Braun
            - name: bemerkung
              type: textarea
              label: Bemerkung
              required: false
            - name: nachweis
              type: file
              label: Nachweis
              required: false
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
FAKE_PDF = b"%PDF-1.7\n% stand-in for the rendered application\n%%EOF\n"

_numbers = itertools.count(1)


# Files and the catalogue ---------------------------------------------------------------


def png_bytes(seed: int = 0, size: int = 0) -> bytes:
    """A valid PNG (1×1 pixel); ``seed`` changes its pixel (and so its hash), ``size`` pads it
    with a text chunk to about that many bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes([seed % 256, (seed // 256) % 256, 0]))
    padding = b"" if size <= 0 else chunk(b"tEXt", b"pad\x00" + os.urandom(size // 2).hex().encode()[:size])
    body = chunk(b"IHDR", header) + padding + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def upload(data: bytes, filename: str = "foto.png") -> tuple[io.BytesIO, str]:
    """A file for the test client's form data."""
    return io.BytesIO(data), filename


def stored_upload(data: bytes, filename: str = "nachweis.png") -> dict[str, Any]:
    """Store an upload as the flow does and return its answer value."""

    class _Upload:
        def __init__(self) -> None:
            self.filename = filename
            self.stream = io.BytesIO(data)

    info = inspect_upload(_Upload())
    blob = blob_store().put(info.data)
    return info.metadata(blob.key)


def write_forms(forms_dir: Path, files: Mapping[str, str]) -> Path:
    """A FORMS_DIR holding ``files`` (path below ``forms_dir`` → YAML)."""
    for name, text in files.items():
        path = forms_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return forms_dir


def write_probe_forms(forms_dir: Path, extra: Mapping[str, str] | None = None) -> Path:
    """A FORMS_DIR with the probe and info services (and ``extra``: path below ``forms_dir`` → YAML)."""
    files = {f"catalogue/{PROBE}.yaml": PROBE_YAML, f"catalogue/{INFO}.yaml": INFO_YAML, **(extra or {})}
    return write_forms(forms_dir, files)


def write_test_form(forms_dir: Path) -> Path:
    """A FORMS_DIR with the test form in its catalogue."""
    return write_forms(forms_dir, {f"catalogue/{SERVICE_SLUG}.yaml": TEST_FORM_YAML})


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
        if previous is None:
            app.extensions.pop(EXTENSION_KEY, None)
        else:
            app.extensions[EXTENSION_KEY] = previous


@contextmanager
def serving_service(app: Flask, forms_dir: Path, slug: str = SERVICE_SLUG) -> Iterator[ServiceSpec]:
    """Serve the catalogue of ``forms_dir`` in ``app`` for the duration; yields its service ``slug``."""
    with serving(app, forms_dir) as catalogue:
        yield catalogue.services[slug]


@contextmanager
def inbox_service(app: Flask, forms_dir: Path, source: str = INBOX_FORM_YAML) -> Iterator[ServiceSpec]:
    """Serve a catalogue with the inbox test service (``source``) for the duration; yields it.

    The test form stands in the catalogue too, offered by no commune.
    """
    files = {f"catalogue/{SERVICE_SLUG}.yaml": TEST_FORM_YAML, f"catalogue/{INBOX_SLUG}.yaml": source}
    with serving_service(app, write_forms(forms_dir, files), INBOX_SLUG) as service:
        yield service


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


# The probe form: the citizen flow ------------------------------------------------------


@dataclass
class Site:
    """A commune with offices and the services it offers, for one test."""

    commune: Commune
    office: Office
    catalogue: Catalogue

    @property
    def base(self) -> str:
        return f"/{self.commune.slug}/services"


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


# The test form: the submit pipeline ----------------------------------------------------


@dataclass
class Setting:
    """A commune that offers the test service, its receiving office and its choice row."""

    commune: Commune
    office: Office
    choice: CommuneService
    service: ServiceSpec


def offer_service(service: ServiceSpec, *, commune: Commune | None = None, **choice: Any) -> Setting:
    """A commune (new unless given) that offers ``service`` with an office receiving it by e-mail."""
    commune = commune or make_commune()
    office = make_office(
        commune, kind=service.office_kind, name="Ordnungsamt", email="ordnungsamt@example.org"
    )
    row = offer(commune, service.slug, office, **choice)
    return Setting(commune=commune, office=office, choice=row, service=service)


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


# The inbox form: submissions without the pipeline --------------------------------------


@dataclass
class Place:
    """A commune offering the inbox test service, with two offices."""

    commune: Commune
    office: Office
    other_office: Office


def make_place(service: ServiceSpec, slug: str | None = None, **choice: Any) -> Place:
    """A commune (offering ``service``) with two offices; the first receives the service."""
    commune = make_commune(slug)
    office = make_office(commune, name="Ordnungsamt", kind="ordnungsamt")
    other = make_office(commune, name="Bauamt", kind="bauamt")
    offer(commune, service.slug, office, **choice)
    return Place(commune=commune, office=office, other_office=other)


def inbox_answers(**overrides: Any) -> dict[str, Any]:
    """Complete answers of the inbox test service."""
    values: dict[str, Any] = {
        "name": "Erika Mustermann",
        "email": "erika@example.org",
        "anschrift": {
            "street": "Am Markt",
            "house_number": "1",
            "postal_code": "16356",
            "town": "Werneuchen",
        },
        "hunde": 2,
        "farben": ["schwarz", "braun"],
        "bemerkung": "Zażółć gęślą jaźń",
        "datenschutz": True,
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


def with_file(
    values: dict[str, Any], data: bytes | None = None, filename: str = "nachweis.png"
) -> dict[str, Any]:
    """``values`` plus an uploaded file stored in the blob store."""
    return {**values, "nachweis": stored_upload(data or png_bytes(next(_numbers)), filename)}


def make_submission(
    service: ServiceSpec,
    commune: Commune,
    office: Office,
    values: dict[str, Any] | None = None,
    *,
    submitted_at: datetime | None = None,
    status: SubmissionStatus = SubmissionStatus.RECEIVED,
    pdf: bytes | None = FAKE_PDF,
    locale: str = "de",
    token: str = "",
    **fields: Any,
) -> Submission:
    """A committed submission as the pipeline stores it (no rendering, no deliveries).

    ``token`` is the citizen's tracking token (for the status page).
    """
    values = inbox_answers() if values is None else values
    keep_definition(db.session, service)
    number = next(_numbers)
    name, email = submitter_of(service, values)
    submission = Submission(
        commune_id=commune.id,
        office_id=office.id,
        service_slug=service.slug,
        service_title=service.title,
        form_version=service.version,
        reference=f"{commune.short_code}-2026-{number:06d}",
        reference_year=2026,
        reference_number=number,
        tracking_token_hash=hash_token(token or f"token-{number}"),
        answers=values,
        submitter_name=name,
        submitter_email=email,
        status=status,
        locale=locale,
        submitted_at=submitted_at or datetime(2026, 7, 1, 10, 0, tzinfo=UTC),
        **fields,
    )
    if pdf is not None:
        stored = blob_store().put(pdf, session=db.session)
        submission.pdf_key = stored.key
        submission.pdf_sha256 = stored.sha256
        submission.pdf_size = stored.size
    attachment = values.get("nachweis")
    if isinstance(attachment, dict):
        submission.attachments.append(
            Attachment(
                field_name="nachweis",
                position=0,
                filename=attachment["filename"],
                media_type=attachment["media_type"],
                size=attachment["size"],
                sha256=attachment["sha256"],
                storage_key=attachment["storage_key"],
            )
        )
    db.session.add(submission)
    db.session.commit()
    return submission
