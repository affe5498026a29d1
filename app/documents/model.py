"""The plain input of the document renderers, independent of the database and of Flask.

Callers build these frozen values from their models (see the package docstring for the mapping
from ``app.formspec.summarise``); the renderers never look anything up themselves, so a document
renders the same today and in ten years from the values stored with the submission.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


def _frozen_tuple(instance: object, name: str) -> None:
    """Store a sequence attribute as a tuple, so callers may pass lists and the value stays immutable."""
    value = getattr(instance, name)
    if not isinstance(value, tuple):
        object.__setattr__(instance, name, tuple(value))


@dataclass(frozen=True)
class Letterhead:
    """Who issues the document: the commune as printed at the top of the first page and in the footer.

    ``coat_of_arms`` is PNG or JPEG bytes (anything Pillow reads); an unreadable image is left out
    of the document rather than failing it.
    """

    name: str
    official_name: str = ""
    address_lines: Sequence[str] = ()
    phone: str = ""
    email: str = ""
    website: str = ""
    coat_of_arms: bytes | None = None

    def __post_init__(self) -> None:
        _frozen_tuple(self, "address_lines")


@dataclass(frozen=True)
class AnswerRow:
    """One answer: the field's label and its display text (newlines are kept as line breaks)."""

    label: str
    text: str


@dataclass(frozen=True)
class AnswerGroup:
    """The answers of one fieldset; ``legend`` is None for a fieldset without a heading."""

    legend: str | None
    rows: Sequence[AnswerRow]

    def __post_init__(self) -> None:
        _frozen_tuple(self, "rows")


@dataclass(frozen=True)
class AnswerSection:
    """The answers of one step of the form, under the step's title."""

    title: str
    groups: Sequence[AnswerGroup]

    def __post_init__(self) -> None:
        _frozen_tuple(self, "groups")


@dataclass(frozen=True)
class FeeLine:
    """One fee position in euros."""

    label: str
    amount: Decimal


@dataclass(frozen=True)
class AttachmentEntry:
    """An uploaded file as listed in the document (the file itself travels separately)."""

    filename: str
    media_type: str
    size: int
    sha256: str
    field_label: str = ""


class Relationship(enum.StrEnum):
    """How an embedded file relates to the PDF (PDF/A-3 /AFRelationship)."""

    DATA = "Data"
    SOURCE = "Source"
    ALTERNATIVE = "Alternative"
    SUPPLEMENT = "Supplement"
    UNSPECIFIED = "Unspecified"


@dataclass(frozen=True)
class EmbeddedFile:
    """A file carried inside a PDF/A-3 document as an associated file."""

    filename: str
    data: bytes
    media_type: str
    relationship: Relationship = Relationship.DATA
    description: str = ""


@dataclass(frozen=True)
class SubmissionDocument:
    """Everything the office PDF of one submission shows and carries.

    ``submitted_at`` must be timezone-aware; it is printed in Europe/Berlin and is also the
    creation date of the PDF, which keeps re-rendering the same submission byte-identical.
    ``data_json`` and ``schema_json`` are embedded unchanged as data.json and schema.json.
    ``fee_total`` defaults to the sum of ``fee_lines``; ``fee_note`` carries a fee text that
    could not be computed (e.g. "nach Aufwand").
    """

    letterhead: Letterhead
    service_title: str
    reference: str
    submitted_at: datetime
    sections: Sequence[AnswerSection]
    data_json: bytes
    schema_json: bytes
    fee_lines: Sequence[FeeLine] = ()
    fee_total: Decimal | None = None
    fee_note: str = ""
    attachments: Sequence[AttachmentEntry] = ()
    office_name: str = ""
    language: str = "de-DE"

    def __post_init__(self) -> None:
        if self.submitted_at.tzinfo is None or self.submitted_at.utcoffset() is None:
            raise ValueError("submitted_at must be timezone-aware")
        for name in ("sections", "fee_lines", "attachments"):
            _frozen_tuple(self, name)

    @property
    def total(self) -> Decimal:
        """The fee to pay: ``fee_total`` if given, else the sum of the fee lines."""
        if self.fee_total is not None:
            return self.fee_total
        return sum((line.amount for line in self.fee_lines), Decimal("0"))
