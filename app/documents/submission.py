"""The office's PDF of one submission: letterhead, answers, fee, attachments, embedded data."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Paragraph, Spacer, Table

from .formatting import file_size, local_time, money
from .model import EmbeddedFile, Relationship, SubmissionDocument
from .template import (
    CONTENT_WIDTH,
    RULE,
    SUBHEADING_ROOM,
    TABLE_FONT,
    DocumentTemplate,
    Gettext,
    column_styles,
    heading,
    markup,
    table_row,
    untranslated,
)

LABEL_WIDTH = 0.36 * CONTENT_WIDTH
VALUE_WIDTH = CONTENT_WIDTH - LABEL_WIDTH
CELL_PADDING = 3 * mm
ROW_STYLE = [
    TABLE_FONT,
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
    ("TOPPADDING", (0, 0), (-1, -1), 1.5 * mm),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5 * mm),
    ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
]
SUMMARY_BACKGROUND = colors.HexColor("#f3f2f1")
ATTACHMENT_ROOM = 30 * mm


class SubmissionTemplate(DocumentTemplate):
    """Lays out a :class:`SubmissionDocument` on the shared page frame."""

    def __init__(self, document: SubmissionDocument, *, gettext: Gettext | None = None) -> None:
        self.document = document
        super().__init__(
            document.letterhead,
            title=document.service_title,
            subject=self._subject(document, gettext),
            reference=document.reference,
            created_at=document.submitted_at,
            language=document.language,
            qr_payload=document.reference,
            gettext=gettext,
        )

    @staticmethod
    def _subject(document: SubmissionDocument, gettext: Gettext | None) -> str:
        _ = gettext or untranslated
        return _("Antrag %(reference)s: %(service)s") % {
            "reference": document.reference,
            "service": document.service_title,
        }

    def body(self) -> list[Flowable]:
        return [
            *self.heading_block(),
            *self.answers(),
            *self.fees(),
            *self.attachment_list(),
            *self.embedded_note(),
        ]

    def _pairs(self, pairs: list[tuple[str, str]], value_style: ParagraphStyle | None = None) -> Table:
        """A two-column table of label and text that wraps long text and splits across pages."""
        label_style, value_style = self.styles.label, value_style or self.styles.value
        data = [table_row([(label, label_style, LABEL_WIDTH - CELL_PADDING),
                           (text, value_style, VALUE_WIDTH - CELL_PADDING)])
                for label, text in pairs]
        return Table(data, colWidths=[LABEL_WIDTH, VALUE_WIDTH],
                     style=[*ROW_STYLE, *column_styles([label_style, value_style])],
                     hAlign="LEFT", splitInRow=1)

    def heading_block(self) -> list[Flowable]:
        _ = self.gettext
        document = self.document
        pairs = [
            (_("Aktenzeichen"), document.reference),
            (_("Eingegangen am"), _("%(time)s Uhr") % {"time": local_time(document.submitted_at,
                                                                          document.language)}),
        ]
        if document.office_name:
            pairs.append((_("Zuständige Stelle"), document.office_name))
        summary = self._pairs(pairs)
        summary.setStyle([("BACKGROUND", (0, 0), (-1, -1), SUMMARY_BACKGROUND),
                          ("LEFTPADDING", (0, 0), (-1, -1), 2 * mm),
                          ("LINEBELOW", (0, 0), (-1, -1), 0, colors.white)])
        return [
            Paragraph(markup(document.service_title), self.styles.title),
            summary,
        ]

    def answers(self) -> list[Flowable]:
        _ = self.gettext
        styles = self.styles
        flowables: list[Flowable] = []
        for section in self.document.sections:
            flowables += heading(section.title, styles.heading)
            for group in section.groups:
                if group.legend:
                    flowables += heading(group.legend, styles.subheading, SUBHEADING_ROOM)
                if group.rows:
                    flowables.append(self._pairs([(row.label, row.text) for row in group.rows]))
        if not flowables:
            flowables = [*heading(_("Angaben"), styles.heading),
                         Paragraph(markup(_("Keine Angaben.")), styles.body)]
        return flowables

    def fees(self) -> list[Flowable]:
        _ = self.gettext
        document = self.document
        styles = self.styles
        flowables: list[Flowable] = heading(_("Gebühren"), styles.heading)
        if not document.fee_lines and document.fee_total is None:
            text = document.fee_note or _("Für diese Leistung fallen keine Gebühren an.")
            flowables.append(Paragraph(markup(text), styles.body))
            return flowables
        label_width, amount_width = CONTENT_WIDTH - 40 * mm, 40 * mm
        data = [table_row([(line.label, styles.value, label_width - CELL_PADDING),
                           (money(line.amount, document.language), styles.value_right, amount_width)])
                for line in document.fee_lines]
        data.append(table_row([(_("Gesamt"), styles.label, label_width - CELL_PADDING),
                               (money(document.total, document.language), styles.label_right, amount_width)]))
        table = Table(data, colWidths=[label_width, amount_width], style=ROW_STYLE, hAlign="LEFT",
                      splitInRow=1)
        table.setStyle([
            *column_styles([styles.value, styles.value_right]),
            # The total row is bold in both columns.
            ("FONT", (0, -1), (-1, -1), styles.label.fontName, styles.label.fontSize, styles.label.leading),
            ("LINEABOVE", (0, -1), (-1, -1), 0.75, colors.black),
            ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
        ])
        flowables.append(table)
        if document.fee_note:
            flowables.append(Paragraph(markup(document.fee_note), styles.small))
        return flowables

    def attachment_list(self) -> list[Flowable]:
        _ = self.gettext
        document = self.document
        styles = self.styles
        flowables: list[Flowable] = heading(_("Anlagen"), styles.heading)
        if not document.attachments:
            flowables.append(Paragraph(markup(_("Keine Anlagen.")), styles.body))
            return flowables
        for entry in document.attachments:
            pairs = [(_("Datei"), entry.filename)]
            if entry.field_label:
                pairs.append((_("Zur Angabe"), entry.field_label))
            pairs += [
                (_("Art"), entry.media_type),
                (_("Größe"), file_size(entry.size, document.language)),
            ]
            details = self._pairs(pairs)
            details.setStyle([("LINEBELOW", (0, 0), (-1, -1), 0, colors.white)])
            # Small enough that the 64 hex digits fit on one line of the value column.
            checksum = self._pairs([(_("SHA-256"), entry.sha256)], styles.checksum)
            # One attachment's entry stays on one page.
            flowables += [CondPageBreak(ATTACHMENT_ROOM), details, checksum]
        return flowables

    def embedded_note(self) -> list[Flowable]:
        _ = self.gettext
        note = _(
            "Dieses Dokument ist eine PDF/A-3-Datei. Die Angaben sind maschinenlesbar als data.json "
            "eingebettet, das Formularschema als schema.json."
        )
        return [Spacer(1, 6 * mm), Paragraph(markup(note), self.styles.small)]

    def embedded_files(self) -> list[EmbeddedFile]:
        """data.json (the answers) and schema.json (their JSON Schema), as PDF/A-3 associated files."""
        _ = self.gettext
        return [
            EmbeddedFile("data.json", self.document.data_json, "application/json", Relationship.DATA,
                         _("Angaben des Antrags")),
            EmbeddedFile("schema.json", self.document.schema_json, "application/schema+json",
                         Relationship.SOURCE, _("JSON-Schema des Formulars")),
        ]


def render_submission_pdf(
    document: SubmissionDocument, *, pdfa: bool = True, gettext: Gettext | None = None
) -> bytes:
    """The office's PDF of a submission; PDF/A-3b with data.json and schema.json unless ``pdfa=False``.

    Identical input gives identical bytes, so the result can be stored once with its hash and
    rendered again later to verify or replace it.
    """
    return SubmissionTemplate(document, gettext=gettext).render(pdfa=pdfa)
