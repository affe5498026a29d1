"""What the office's PDF of a submission shows: letterhead, answers, fee, attachments, page numbers."""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from app.documents import (
    AnswerGroup,
    AnswerRow,
    AnswerSection,
    AttachmentEntry,
    DocumentTemplate,
    FeeLine,
    Letterhead,
    SubmissionTemplate,
    extract_embedded_files,
    render_submission_pdf,
)
from app.documents.template import QrCode

from .samples import GERMAN, POLISH, REFERENCE, SHA256, SORBIAN, make_document, many_rows, png_bytes

TextOf = Callable[[bytes], str]


def _pages(pdf: bytes) -> int:
    with pikepdf.open(BytesIO(pdf)) as document:
        return len(document.pages)


def _images(pdf: bytes) -> list[tuple[str, bool]]:
    """(colour space, has a soft mask) of every image drawn on the pages."""
    with pikepdf.open(BytesIO(pdf)) as document:
        return [
            (str(image.ColorSpace), "/SMask" in image)
            for page in document.pages
            for image in page.get_images().values()
        ]


def test_text_covers_german_polish_and_lower_sorbian(sample_pdf: bytes, pdf_text: TextOf) -> None:
    """Every character of the three languages is drawn from the embedded font and extractable."""
    text = pdf_text(sample_pdf)
    assert POLISH in text
    assert SORBIAN in text
    assert GERMAN in text


def test_letterhead_title_reference_and_berlin_time(sample_pdf: bytes, pdf_text: TextOf) -> None:
    """The commune, the service, the reference and the submission time in Europe/Berlin are printed."""
    text = pdf_text(sample_pdf)
    assert "Stadt Werder (Havel)" in text
    assert "Eisenbahnstraße 13–14 · 14542 Werder (Havel)" in text
    assert "Anmeldung einer Wohnung" in text
    assert REFERENCE in text
    # 15:48 UTC on 25 November is 16:48 in Berlin (CET).
    assert "25.11.2026, 16:48 Uhr" in text
    assert "Bürgerbüro" in text


def test_answers_grouped_by_step_and_fieldset_in_order(sample_pdf: bytes, pdf_text: TextOf) -> None:
    """Step titles, fieldset legends and labels appear in the order of the form."""
    text = pdf_text(sample_pdf)
    order = ["Persönliche Angaben", "Name", "Vorname", "Nachname", "Anschrift", "Einzug", "Wohnung",
             "Einzugsdatum", "Gebühren", "Anlagen"]
    position = text.index("Aktenzeichen")
    for part in order:
        position = text.index(part, position)


def test_fee_lines_and_total_in_german_money(sample_pdf: bytes, pdf_text: TextOf) -> None:
    text = pdf_text(sample_pdf)
    assert "Verwaltungsgebühr" in text
    assert "10,00 €" in text
    assert "2,50 €" in text
    assert "Gesamt" in text
    assert "12,50 €" in text


def test_without_fees_says_so(pdf_text: TextOf) -> None:
    pdf = render_submission_pdf(make_document(fee_lines=(), fee_total=None))
    assert "Für diese Leistung fallen keine Gebühren an." in pdf_text(pdf)


def test_fee_text_that_cannot_be_computed_is_shown(pdf_text: TextOf) -> None:
    pdf = render_submission_pdf(make_document(fee_lines=(), fee_total=None, fee_note="Gebühr nach Aufwand"))
    text = pdf_text(pdf)
    assert "Gebühr nach Aufwand" in text
    assert "keine Gebühren" not in text


def test_attachment_list_shows_size_and_sha256(sample_pdf: bytes, pdf_text: TextOf) -> None:
    text = pdf_text(sample_pdf)
    assert "wohnungsgeberbestaetigung.pdf" in text
    assert "application/pdf" in text
    assert "200,0 KB (204.800 Bytes)" in text
    assert SHA256 in text


def test_page_numbers_say_seite_x_von_y(pdf_text: TextOf) -> None:
    """A document of several pages numbers every page against the total."""
    pdf = render_submission_pdf(make_document(sections=many_rows(60)))
    pages = _pages(pdf)
    assert pages >= 2
    text = pdf_text(pdf)
    for page in range(1, pages + 1):
        assert f"Seite {page} von {pages}" in text
    assert f"Seite {pages + 1} von" not in text


def test_short_document_is_seite_1_von_1(sample_pdf: bytes, pdf_text: TextOf) -> None:
    assert _pages(sample_pdf) == 1
    assert "Seite 1 von 1" in pdf_text(sample_pdf)


def test_very_long_answers_and_many_rows_wrap_and_paginate(pdf_text: TextOf) -> None:
    """A value longer than a page, a word wider than the column and 300 rows all lay out."""
    long_value = "Lorem ipsum dolor sit amet, consetetur sadipscing elitr. " * 600
    wide_word = "X" * 700
    sections = (
        AnswerSection("Begründung", (AnswerGroup(None, (AnswerRow("Ausführliche Begründung", long_value),
                                                        AnswerRow("Kennung", wide_word))),)),
        *many_rows(300),
    )
    pdf = render_submission_pdf(make_document(sections=sections))
    assert _pages(pdf) > 5
    text = pdf_text(pdf)
    assert "Frage 299" in text
    assert "Ausführliche Begründung" in text
    assert text.count("consetetur") == 600


def test_markup_in_answers_is_printed_literally(pdf_text: TextOf) -> None:
    """Answers are text, never reportlab markup: tags and entities come out as typed."""
    typed = "<b>fett</b> & <font size=40>gross</font> &amp;"
    pdf = render_submission_pdf(make_document(sections=(
        AnswerSection("Schritt", (AnswerGroup(None, (AnswerRow("Bemerkung", typed),)),)),
    )))
    assert typed in pdf_text(pdf)


def test_missing_coat_of_arms_renders_without_image(pdf_text: TextOf) -> None:
    letterhead = replace(make_document().letterhead, coat_of_arms=None)
    pdf = render_submission_pdf(make_document(letterhead=letterhead))
    assert _images(pdf) == []
    assert "Stadt Werder (Havel)" in pdf_text(pdf)


def test_broken_coat_of_arms_is_left_out_not_fatal(
    pdf_text: TextOf, caplog: pytest.LogCaptureFixture
) -> None:
    letterhead = replace(make_document().letterhead, coat_of_arms=b"\x89PNG\r\n\x1a\nnot really a png")
    with caplog.at_level(logging.WARNING, logger="app.documents"):
        pdf = render_submission_pdf(make_document(letterhead=letterhead))
    assert _images(pdf) == []
    assert "Stadt Werder (Havel)" in pdf_text(pdf)
    assert "coat of arms left out" in caplog.text


def test_coat_of_arms_is_drawn_as_opaque_rgb(sample_pdf: bytes) -> None:
    """A transparent PNG is flattened: no soft mask, so nothing in the PDF needs transparency."""
    letterhead = replace(make_document().letterhead, coat_of_arms=png_bytes("RGBA", color=(0, 80, 160, 90)))
    for pdf in (sample_pdf, render_submission_pdf(make_document(letterhead=letterhead))):
        assert _images(pdf) == [("/DeviceRGB", False)]


def test_cmyk_jpeg_coat_of_arms_is_drawn_in_rgb() -> None:
    """A CMYK image would clash with the sRGB output intent; it is converted."""
    buffer = BytesIO()
    Image.new("CMYK", (90, 100), (0, 255, 255, 0)).save(buffer, "JPEG")
    letterhead = replace(make_document().letterhead, coat_of_arms=buffer.getvalue())
    assert _images(render_submission_pdf(make_document(letterhead=letterhead))) == [("/DeviceRGB", False)]


def test_qr_code_in_letterhead_carries_the_reference() -> None:
    template = SubmissionTemplate(make_document())
    [table] = template.letterhead_flowables()
    codes = [cell for row in table._cellvalues for cell in row if isinstance(cell, QrCode)]
    assert [code.value for code in codes] == [REFERENCE]


def test_identical_input_gives_identical_bytes(sample_pdf: bytes) -> None:
    """Re-rendering a stored submission reproduces the stored PDF, so its hash stays valid."""
    assert render_submission_pdf(make_document()) == sample_pdf
    assert render_submission_pdf(make_document(reference="WER-2026-000124")) != sample_pdf


def test_another_process_renders_the_same_bytes(sample_pdf: bytes) -> None:
    """Byte-identical across processes and hash seeds, as a re-render by another worker must be."""
    script = (
        "import hashlib, sys; sys.path.insert(0, sys.argv[1]);"
        "from documents.samples import make_document;"
        "from app.documents import render_submission_pdf;"
        "print(hashlib.sha256(render_submission_pdf(make_document())).hexdigest())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(Path(__file__).parent.parent)],
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.strip() == hashlib.sha256(sample_pdf).hexdigest()


def test_injected_gettext_translates_fixed_texts(pdf_text: TextOf) -> None:
    english = {"Seite %(page)d von %(pages)d": "Page %(page)d of %(pages)d", "Gebühren": "Fees"}
    pdf = render_submission_pdf(make_document(), gettext=lambda message: english.get(message, message))
    text = pdf_text(pdf)
    assert "Page 1 of 1" in text
    assert "Fees" in text


def test_characters_missing_from_the_font_do_not_break_the_document(pdf_text: TextOf) -> None:
    """An emoji or CJK answer is shown as U+FFFD instead of an invalid .notdef glyph."""
    pdf = render_submission_pdf(make_document(sections=(
        AnswerSection("Schritt", (AnswerGroup(None, (AnswerRow("Bemerkung", "Danke 🙂 东京"),)),)),
    )))
    assert "Danke \ufffd \ufffd\ufffd" in pdf_text(pdf)


def test_a_new_document_type_reuses_letterhead_and_numbering(pdf_text: TextOf) -> None:
    """DocumentTemplate gives any body the commune's letterhead and the numbered footer."""

    class Notice(DocumentTemplate):
        def body(self) -> list:
            return [Paragraph("Rechnung RE-1", self.styles.title)]

    pdf = Notice(
        Letterhead("Gemeinde Schenkendöbern"),
        title="Rechnung RE-1",
        subject="E-Rechnung",
        reference="RE-1",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    ).render()
    text = pdf_text(pdf)
    assert "Gemeinde Schenkendöbern" in text
    assert "Rechnung RE-1" in text
    assert "Seite 1 von 1" in text
    assert extract_embedded_files(pdf) == {}
    with pikepdf.open(BytesIO(pdf)) as document:
        assert document.open_metadata().pdfa_status == "3B"
        assert str(document.docinfo.Title) == "Rechnung RE-1"


def test_no_page_ends_with_a_heading(pdf_text: TextOf) -> None:
    """Step titles and fieldset legends move to the next page with their answers."""
    # Groups of 1 to 7 rows, so that headings fall at every height of the page somewhere.
    sections = tuple(
        AnswerSection(f"Schritt {step}", tuple(
            AnswerGroup(f"Gruppe {step}.{group}", tuple(
                AnswerRow(f"Frage {step}.{group}.{row}", "Antwort") for row in range(1 + (step + group) % 7)
            ))
            for group in range(2)
        ))
        for step in range(40)
    )
    pdf = render_submission_pdf(make_document(sections=sections))
    pages = pdf_text(pdf).split("\f")
    assert len([page for page in pages if page.strip()]) > 3
    for page in pages:
        lines = [line for line in page.splitlines()
                 if line.strip() and REFERENCE not in line and not line.startswith("Seite ")]
        if lines:
            assert not lines[-1].startswith(("Schritt ", "Gruppe ")), lines[-3:]


@pytest.mark.parametrize(
    "part", ["commune", "office", "service", "section", "legend", "label", "fee", "file"]
)
def test_absurdly_long_texts_anywhere_still_render(part: str, pdf_text: TextOf) -> None:
    """No input text, however long, makes reportlab give up on the layout (LayoutError)."""
    long = "Sehr langer Text " * 600
    base = make_document()
    changes = {
        "commune": {"letterhead": replace(base.letterhead, name=long, address_lines=(long,))},
        "office": {"office_name": long},
        "service": {"service_title": long},
        "section": {"sections": (AnswerSection(long, (AnswerGroup(None, (AnswerRow("a", "b"),)),)),)},
        "legend": {"sections": (AnswerSection("S", (AnswerGroup(long, (AnswerRow("a", "b"),)),)),)},
        "label": {"sections": (AnswerSection("S", (AnswerGroup(None, (AnswerRow(long, "b"),)),)),)},
        "fee": {"fee_lines": (FeeLine(long, Decimal("1.00")),)},
        "file": {"attachments": (AttachmentEntry(long, "application/pdf", 1, SHA256),)},
    }[part]
    pdf = render_submission_pdf(make_document(**changes))
    assert _pages(pdf) > 1
    assert "Sehr langer Text" in pdf_text(pdf)


def test_qr_code_draws_one_rectangle_per_run_of_dark_modules_in_one_fill() -> None:
    """The QR code's dark modules, run by run: one path, filled once by the non-zero winding rule
    (with even-odd, the overlap between the runs of two rows would show as a white line)."""
    code = QrCode(REFERENCE, 26 * 2.835)
    runs = sum(1 for row in code.matrix for dark, _run in itertools.groupby(row) if dark)
    buffer = BytesIO()
    canvas = Canvas(buffer, invariant=1)
    code.drawOn(canvas, 0, 0)
    canvas.showPage()
    canvas.save()
    with pikepdf.open(BytesIO(buffer.getvalue())) as pdf:
        operators = [str(operator) for _operands, operator in pikepdf.parse_content_stream(pdf.pages[0])]
    assert len(code.matrix) == 21, "a reference fits version 1"
    assert operators.count("re") == runs
    assert operators.count("f") == 1
    assert "f*" not in operators
