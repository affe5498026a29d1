"""PDF rendering alone: the portal's office PDF against a bare reportlab script, in the same run.

The portal renders a 30-field submission with everything it does in production (letterhead, QR
code, wrapped answers, fee and attachment list, "Seite x von y", PDF/A-3b finishing with pikepdf and
the embedded data.json and schema.json). The bare script draws the same 30 rows as one table in the
same font with reportlab's SimpleDocTemplate and nothing else, once with Paragraph cells (so long
answers wrap as in the portal's table) and once with plain-string cells (long answers overflow).
All are timed alternately after a warm-up; the figures are medians of wall-clock time, with CPU
time beside them (telling on a shared machine). The ratio bare/portal is the portal's throughput as
a share of the bare script's (target: at least 0.6). The portal's parts are timed separately.

    .venv/bin/python bench/bench_pdf.py [--repeat 40] [--fields 30]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table

from app.documents import (
    AnswerGroup,
    AnswerRow,
    AnswerSection,
    AttachmentEntry,
    FeeLine,
    Letterhead,
    SubmissionDocument,
    SubmissionTemplate,
    make_pdfa3,
    render_submission_pdf,
)
from app.documents.fonts import REGULAR
from app.documents.template import QR_SIZE, QrCode, prepare_reportlab

VALUES = (
    "Zażółć gęślą jaźń",
    "Dolnoserbšćina: Chóśebuz, Łužyca",
    "Hauptstraße 12, 14542 Werder (Havel)",
    "01.12.2026",
    "Ich bitte um Zusendung der Bescheinigung an die oben genannte Anschrift, gerne auch per E-Mail.",
)


def sample_rows(fields: int) -> list[tuple[str, str]]:
    """``fields`` answers of the kinds a form collects, short and long."""
    return [(f"Angabe {index + 1}", VALUES[index % len(VALUES)]) for index in range(fields)]


def portal_document(rows: list[tuple[str, str]]) -> SubmissionDocument:
    """The rows as a submission of three steps with two fieldsets each."""
    per_group = max(1, -(-len(rows) // 6))
    groups = [rows[start:start + per_group] for start in range(0, len(rows), per_group)]
    sections = [
        AnswerSection(
            f"Schritt {step + 1}",
            [AnswerGroup(f"Abschnitt {step * 2 + offset + 1}",
                         [AnswerRow(label, text) for label, text in group])
             for offset, group in enumerate(groups[step * 2:step * 2 + 2])],
        )
        for step in range(-(-len(groups) // 2))
    ]
    answers = dict(rows)
    return SubmissionDocument(
        letterhead=Letterhead(
            name="Stadt Werder (Havel)",
            official_name="Stadtverwaltung Werder (Havel)",
            address_lines=("Eisenbahnstraße 13–14", "14542 Werder (Havel)"),
            phone="03327 783-0",
            email="info@werder-havel.de",
        ),
        service_title="Anmeldung einer Wohnung",
        reference="WER-2026-000123",
        submitted_at=datetime(2026, 11, 25, 15, 48, tzinfo=UTC),
        sections=sections,
        data_json=json.dumps(answers, ensure_ascii=False, indent=2).encode(),
        schema_json=json.dumps({"type": "object", "properties": {key: {"type": "string"} for key in answers}},
                               indent=2).encode(),
        fee_lines=[FeeLine("Verwaltungsgebühr", Decimal("12.50"))],
        attachments=[AttachmentEntry("anlage.pdf", "application/pdf", 204800, "ab" * 32)],
        office_name="Bürgerbüro",
    )


CELL = ParagraphStyle("cell", fontName=REGULAR, fontSize=9, leading=11.7)


def bare_reportlab(rows: list[tuple[str, str]], *, wrap: bool) -> bytes:
    """The same rows as one table in the same font, with nothing else.

    ``wrap``: every cell a Paragraph, reportlab's usual way to let long answers wrap, so the table
    looks like the portal's; without it the cells are plain strings and long answers run off the page.
    """
    buffer = BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
                                 initialFontName=REGULAR)
    data = [[Paragraph(escape(cell), CELL) for cell in row] if wrap else list(row) for row in rows]
    table = Table(data, colWidths=[60 * mm, 110 * mm])
    table.setStyle([("FONT", (0, 0), (-1, -1), REGULAR, 9)])
    document.build([table])
    return buffer.getvalue()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


class Timer:
    """Wall-clock and CPU milliseconds of repeated calls; medians, robust against a busy machine."""

    def __init__(self, function: Callable[[], object]) -> None:
        self.function = function
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def run(self) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.function()
        self.cpu.append((time.process_time() - cpu) * 1000)
        self.wall.append((time.perf_counter() - wall) * 1000)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    def line(self, name: str) -> str:
        return f"{name:<52}{self.median:8.1f} ms  (CPU {statistics.median(self.cpu):6.1f} ms)"


def encode_qr(payload: str) -> None:
    """What encoding the QR code costs: segno encodes it and picks the best of eight masks."""
    QrCode(payload, QR_SIZE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=40, help="timed renders of each (default 40)")
    parser.add_argument("--fields", type=int, default=30, help="answers in the submission (default 30)")
    args = parser.parse_args()

    # Once per process in the portal too (fonts parsed and registered, reportlab configured).
    prepare_reportlab()
    rows = sample_rows(args.fields)
    document = portal_document(rows)
    template = SubmissionTemplate(document)
    drawn, embedded = template.draw(), template.embedded_files()

    def finish() -> bytes:
        return make_pdfa3(drawn, title=template.title, author=document.letterhead.name,
                          subject=template.subject, created_at=document.submitted_at, attachments=embedded)

    portal = Timer(lambda: render_submission_pdf(document))
    bare = Timer(lambda: bare_reportlab(rows, wrap=True))
    bare_strings = Timer(lambda: bare_reportlab(rows, wrap=False))
    parts = {
        "  of which drawing with reportlab (letterhead, QR, …)":
            Timer(lambda: SubmissionTemplate(document).draw()),
        "    of which encoding the QR code": Timer(lambda: encode_qr(document.reference)),
        "  of which PDF/A-3b finishing with pikepdf": Timer(finish),
    }
    timers = [portal, bare, bare_strings, *parts.values()]
    for timer in timers:
        for _ in range(3):
            timer.function()
    # Interleaved, so that a neighbour's load spreads over all of them alike.
    for _ in range(args.repeat):
        for timer in timers:
            timer.run()

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {cores} cores (nproc), {cpu_model()}, Python {platform.python_version()}")
    print(f"document: {args.fields} fields; {args.repeat} renders of each, interleaved; medians")
    print(portal.line(f"portal render_submission_pdf ({len(render_submission_pdf(document))} B)"))
    for name, timer in parts.items():
        print(timer.line(name))
    print(bare.line(f"bare reportlab, same table, wrapping ({len(bare_reportlab(rows, wrap=True))} B)"))
    print(bare_strings.line(f"bare reportlab, plain strings ({len(bare_reportlab(rows, wrap=False))} B)"))
    print(f"ratio bare/portal (portal throughput as a share of bare): {bare.median / portal.median:.2f} "
          f"(target >= 0.6); against plain strings: {bare_strings.median / portal.median:.2f}")
    print(f"ratio of the CPU medians: {statistics.median(bare.cpu) / statistics.median(portal.cpu):.2f}; "
          f"against plain strings: {statistics.median(bare_strings.cpu) / statistics.median(portal.cpu):.2f}")


if __name__ == "__main__":
    main()
