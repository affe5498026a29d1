"""Documents the portal renders: the office's PDF/A-3 of a submission, on a shared page frame.

Core package: no Flask, no database, no other app package. Input is a plain frozen value
(:class:`SubmissionDocument`), output is bytes.

Public API::

    render_submission_pdf(document, *, pdfa=True, gettext=None) -> bytes
    make_pdfa3(pdf_bytes, *, title, author, subject, created_at, attachments=(), language="de-DE",
               creator_tool="Kommunalportal") -> bytes
    extract_embedded_files(pdf_bytes) -> dict[str, bytes]
    DocumentTemplate            # base of a document type: implement body(), maybe embedded_files();
                                # render(pdfa=True) -> PDF/A-3b bytes, draw() -> reportlab's PDF

Building the input from a stored submission (the rows come from ``app.formspec.summarise``; the
caller owns the models, this package only sees the values)::

    from app import documents
    from app.formspec import compute_fees, data_schema, summarise

    sections = [
        documents.AnswerSection(
            title=section.title,
            groups=[
                documents.AnswerGroup(fieldset.legend, [documents.AnswerRow(row.label, row.text)
                                                        for row in fieldset.rows])
                for fieldset in section.fieldsets
            ],
        )
        for section in summarise(service, submission.answers)
    ]
    fees = compute_fees(service, submission.answers)
    pdf = documents.render_submission_pdf(documents.SubmissionDocument(
        letterhead=documents.Letterhead(
            name=commune.name, official_name=commune.official_name,
            address_lines=commune.address.splitlines(), phone=commune.phone, email=commune.email,
            coat_of_arms=coat_of_arms_bytes,  # PNG/JPEG bytes or None
        ),
        service_title=service.title,
        reference=submission.reference,
        submitted_at=submission.submitted_at,  # aware; printed in Europe/Berlin
        sections=sections,
        fee_lines=[documents.FeeLine(line.label, line.amount) for line in fees.lines],
        fee_total=fees.total,
        fee_note=service.fees.text if service.fees and service.fees.text else "",
        attachments=[documents.AttachmentEntry(a.filename, a.media_type, a.size, a.sha256)
                     for a in submission.attachments],
        data_json=json.dumps(submission.answers, ensure_ascii=False, indent=2).encode(),
        schema_json=json.dumps(data_schema(service), ensure_ascii=False, indent=2).encode(),
        office_name=office.name,
    ))

Store ``pdf`` once with its SHA-256 and serve the stored bytes; rendering the same input again
gives the same bytes (fixed dates from ``submitted_at``, reportlab's invariant mode, a /ID derived
from the content), so a repeated render step is harmless.

The fixed texts are German source strings passed through ``gettext`` (default: unchanged); the
web layer may inject ``flask_babel.gettext`` for another language. Fonts (DejaVu Sans, shipped in
``fonts/`` with its licence) and the sRGB ICC profile (``srgb.icc``) are part of the package.
"""

from .model import (
    AnswerGroup,
    AnswerRow,
    AnswerSection,
    AttachmentEntry,
    EmbeddedFile,
    FeeLine,
    Letterhead,
    Relationship,
    SubmissionDocument,
)
from .pdfa import extract_embedded_files, make_pdfa3
from .submission import SubmissionTemplate, render_submission_pdf
from .template import DocumentTemplate

__all__ = [
    "AnswerGroup",
    "AnswerRow",
    "AnswerSection",
    "AttachmentEntry",
    "DocumentTemplate",
    "EmbeddedFile",
    "FeeLine",
    "Letterhead",
    "Relationship",
    "SubmissionDocument",
    "SubmissionTemplate",
    "extract_embedded_files",
    "make_pdfa3",
    "render_submission_pdf",
]
