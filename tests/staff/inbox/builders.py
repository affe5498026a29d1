"""Builders for the inbox tests: a form with every kind of answer, submissions without the pipeline.

The form ("inboxtest") asks for a name and e-mail address (autocomplete ``name``/``email``),
an address (four columns in exports), a number of dogs, colours (several choices), a
remark and an optional file. :func:`make_submission` writes a submission exactly as the
pipeline stores it (kept definition, answers, attachments, a stored PDF) but without
rendering, so tests can make many quickly.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factories import make_commune, make_office
from flask import Flask
from submissions.submit_builders import png_bytes, serving_catalogue, stored_upload, write_forms

from app.catalogue.models import CommuneService
from app.extensions import db
from app.formspec import ServiceSpec
from app.storage import blob_store
from app.submissions.models import Attachment, Submission, SubmissionStatus
from app.submissions.services import hash_token, keep_definition, submitter_of
from app.tenancy.models import Commune, Office

SLUG = "inboxtest"
FAKE_PDF = b"%PDF-1.7\n% stand-in for the rendered application\n%%EOF\n"

FORM_YAML = """\
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

_numbers = itertools.count(1)


@dataclass
class Place:
    """A commune offering the inbox test service, with two offices."""

    commune: Commune
    office: Office
    other_office: Office


@contextmanager
def inbox_service(app: Flask, forms_dir: Path, source: str = FORM_YAML) -> Iterator[ServiceSpec]:
    """Serve a catalogue with the inbox test service (``source``) for the duration; yields it."""
    with serving_catalogue(app, write_forms(forms_dir, {f"{SLUG}.yaml": source})):
        from app.catalogue.services import get_catalogue

        yield get_catalogue().services[SLUG]


def make_place(service: ServiceSpec, slug: str | None = None, **choice: Any) -> Place:
    """A commune (offering ``service``) with two offices; the first receives the service."""
    commune = make_commune(slug) if slug else make_commune()
    office = make_office(commune, name="Ordnungsamt", kind="ordnungsamt")
    other = make_office(commune, name="Bauamt", kind="bauamt")
    db.session.add(
        CommuneService(commune_id=commune.id, service_slug=service.slug, office_id=office.id, **choice)
    )
    db.session.commit()
    return Place(commune=commune, office=office, other_office=other)


def answers(**overrides: Any) -> dict[str, Any]:
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
    values = answers() if values is None else values
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
    upload = values.get("nachweis")
    if isinstance(upload, dict):
        submission.attachments.append(
            Attachment(
                field_name="nachweis",
                position=0,
                filename=upload["filename"],
                media_type=upload["media_type"],
                size=upload["size"],
                sha256=upload["sha256"],
                storage_key=upload["storage_key"],
            )
        )
    db.session.add(submission)
    db.session.commit()
    return submission
