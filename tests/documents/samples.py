"""Sample submissions for the document tests."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any

from PIL import Image

from app.documents import (
    AnswerGroup,
    AnswerRow,
    AnswerSection,
    AttachmentEntry,
    FeeLine,
    Letterhead,
    SubmissionDocument,
)

POLISH = "Zażółć gęślą jaźń"
SORBIAN = "Dolnoserbšćina: Chóśebuz, Łužyca"
GERMAN = "Straße"
REFERENCE = "WER-2026-000123"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
DATA_JSON = json.dumps(
    {"vorname": "Jaźń", "strasse": "Hauptstraße 1", "gebuehr": "12.50"}, ensure_ascii=False, indent=2
).encode()
SCHEMA_JSON = json.dumps(
    {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}, indent=2
).encode()


def png_bytes(mode: str = "RGB", size: tuple[int, int] = (120, 140), color: Any = (180, 20, 30)) -> bytes:
    """A small PNG as a commune might upload for its coat of arms."""
    buffer = BytesIO()
    Image.new(mode, size, color).save(buffer, "PNG")
    return buffer.getvalue()


def make_document(**changes: Any) -> SubmissionDocument:
    """A submission with answers in German, Polish and Lower Sorbian, a fee and one attachment."""
    document = SubmissionDocument(
        letterhead=Letterhead(
            name="Stadt Werder (Havel)",
            official_name="Stadtverwaltung Werder (Havel)",
            address_lines=("Eisenbahnstraße 13–14", "14542 Werder (Havel)"),
            phone="03327 783-0",
            email="info@werder-havel.de",
            coat_of_arms=png_bytes(),
        ),
        service_title="Anmeldung einer Wohnung",
        reference=REFERENCE,
        submitted_at=datetime(2026, 11, 25, 15, 48, tzinfo=UTC),
        sections=(
            AnswerSection(
                "Persönliche Angaben",
                (
                    AnswerGroup("Name", (AnswerRow("Vorname", POLISH), AnswerRow("Nachname", SORBIAN))),
                    AnswerGroup(None, (AnswerRow("Anschrift", f"Haupt{GERMAN} 1\n14542 Werder (Havel)"),)),
                ),
            ),
            AnswerSection("Einzug", (AnswerGroup("Wohnung", (AnswerRow("Einzugsdatum", "01.12.2026"),)),)),
        ),
        data_json=DATA_JSON,
        schema_json=SCHEMA_JSON,
        fee_lines=(FeeLine("Verwaltungsgebühr", Decimal("10.00")), FeeLine("Auslagen", Decimal("2.50"))),
        attachments=(
            AttachmentEntry("wohnungsgeberbestaetigung.pdf", "application/pdf", 204800, SHA256,
                            "Wohnungsgeberbestätigung"),
        ),
        office_name="Bürgerbüro",
    )
    return replace(document, **changes)


def many_rows(count: int) -> tuple[AnswerSection, ...]:
    """``count`` answers spread over steps of ten, enough to run over several pages."""
    return tuple(
        AnswerSection(
            f"Schritt {step + 1}",
            (AnswerGroup(f"Gruppe {step + 1}",
                         tuple(AnswerRow(f"Frage {index}", f"Antwort {index}: {POLISH}")
                               for index in range(step * 10, min(count, step * 10 + 10)))),),
        )
        for step in range((count + 9) // 10)
    )
