"""Minimal submissions for the delivery tests, made without the submit pipeline."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from factories import make_commune, make_office

from app.delivery.models import Delivery
from app.delivery.services import enqueue_deliveries
from app.extensions import db
from app.storage import blob_store
from app.submissions.models import Attachment, FormDefinition, Submission
from app.tenancy.models import Commune, Office

_numbers = itertools.count(1)

FAKE_PDF = b"%PDF-1.7\n% a stand-in for the rendered submission\n%%EOF\n"


@dataclass
class Channels:
    """Stands in for a CommuneService's channel columns."""

    deliver_by_email: bool = True
    email_to: str = ""
    webhook_url: str | None = None
    webhook_secret: str | None = None


def make_submission(
    commune: Commune | None = None,
    office: Office | None = None,
    *,
    pdf: bytes | None = FAKE_PDF,
    attachments: list[tuple[str, str, bytes]] | None = None,
    answers: dict[str, Any] | None = None,
    commit: bool = True,
) -> Submission:
    """A submission with a stored PDF (unless ``pdf`` is None) and attachments in storage."""
    commune = commune or make_commune(name="Werneuchen")
    office = office or make_office(commune, name="Ordnungsamt", email="ordnungsamt@werneuchen.example")
    version = secrets.token_hex(32)
    db.session.add(FormDefinition(version=version, service_slug="hundesteuer", source={"title": "Hund"}))
    number = next(_numbers)
    submission = Submission(
        commune_id=commune.id,
        office_id=office.id,
        service_slug="hundesteuer",
        service_title="Anmeldung zur Hundesteuer",
        form_version=version,
        reference=f"{commune.short_code}-2026-{number:06d}",
        reference_year=2026,
        reference_number=number,
        tracking_token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
        answers=answers if answers is not None else {"name": "Zażółć Gęślą", "hunde": 2},
        submitter_name="Erika Mustermann",
        submitter_email="erika@example.org",
        submitted_at=datetime(2026, 7, 1, 10, 30, tzinfo=UTC),
    )
    store = blob_store()
    if pdf is not None:
        stored = store.put(pdf, session=db.session)
        submission.pdf_key = stored.key
        submission.pdf_sha256 = stored.sha256
        submission.pdf_size = stored.size
    for position, (filename, media_type, content) in enumerate(attachments or []):
        stored = store.put(content, session=db.session)
        submission.attachments.append(
            Attachment(
                field_name="nachweis",
                position=position,
                filename=filename,
                media_type=media_type,
                size=stored.size,
                sha256=stored.sha256,
                storage_key=stored.key,
            )
        )
    db.session.add(submission)
    if commit:
        db.session.commit()
    return submission


def submit(
    channels: Channels, *, commune: Commune | None = None, office: Office | None = None, **kwargs: Any
) -> tuple[Submission, list[Delivery]]:
    """A submission and its outbox rows, committed together as the pipeline does."""
    commune = commune or make_commune(name="Werneuchen")
    office = office or make_office(commune, name="Ordnungsamt", email="ordnungsamt@werneuchen.example")
    submission = make_submission(commune, office, commit=False, **kwargs)
    deliveries = enqueue_deliveries(submission, channels, office)
    db.session.commit()
    return submission, deliveries
