"""The readable view of an electronic invoice as received: key data, lines, VAT, totals, payment.

An e-invoice is XML; clerks read this PDF/A-3 instead, and it carries the original XML unchanged
as its associated file (``/AFRelationship /Source``), so the readable view and the legal record
travel together. Input is the plain :class:`InvoiceDocument`; the caller maps its parsed invoice
to it. Core module: no Flask, no database, no other app package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from .formatting import babel_locale, local_time
from .model import AnswerRow, AnswerSection, EmbeddedFile, Letterhead, Relationship, _frozen_tuple
from .template import (
    CONTENT_WIDTH,
    RULE,
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
CELL_PADDING = 2 * mm
ROW_STYLE = [
    TABLE_FONT,
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
    ("TOPPADDING", (0, 0), (-1, -1), 1.2 * mm),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2 * mm),
    ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
]
SUMMARY_BACKGROUND = colors.HexColor("#f3f2f1")
#: Column widths of the line table: position, description, quantity, unit price, VAT, net amount.
LINE_COLUMNS = (10 * mm, CONTENT_WIDTH - 112 * mm, 26 * mm, 26 * mm, 16 * mm, 34 * mm)


@dataclass(frozen=True)
class InvoiceLineRow:
    """One invoice line as printed."""

    position: str
    description: str
    quantity: Decimal | None
    unit: str
    unit_price: Decimal | None
    net_amount: Decimal | None
    vat_rate: Decimal | None
    vat_category: str = ""


@dataclass(frozen=True)
class VatRow:
    """One line of the VAT breakdown."""

    category: str
    rate: Decimal | None
    taxable_amount: Decimal | None
    tax_amount: Decimal | None
    exemption_reason: str = ""


@dataclass(frozen=True)
class TotalRow:
    """One line of the totals; ``emphasised`` for the amount due."""

    label: str
    amount: Decimal
    emphasised: bool = False


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything the readable view of one received invoice shows and carries.

    ``received_at`` (aware) is printed in Europe/Berlin and is the PDF's creation date, so the
    same input renders byte-identical. ``sections`` hold the key data as label/text pairs
    (invoice, seller, buyer, payment); ``xml`` is embedded unchanged under ``xml_filename``.
    ``notices`` are the validator's warnings, printed so the clerk sees them; ``closing_sections``
    follow the totals.
    """

    letterhead: Letterhead
    title: str
    reference: str
    received_at: datetime
    sections: Sequence[AnswerSection]
    lines: Sequence[InvoiceLineRow]
    vat: Sequence[VatRow]
    totals: Sequence[TotalRow]
    currency: str
    xml: bytes
    xml_filename: str
    data_json: bytes
    office_name: str = ""
    notices: Sequence[str] = ()
    #: Key data printed after the totals (the payment instructions), in the same form as ``sections``.
    closing_sections: Sequence[AnswerSection] = ()
    language: str = "de-DE"

    def __post_init__(self) -> None:
        if self.received_at.tzinfo is None or self.received_at.utcoffset() is None:
            raise ValueError("received_at must be timezone-aware")
        for name in ("sections", "lines", "vat", "totals", "notices", "closing_sections"):
            _frozen_tuple(self, name)


class InvoiceTemplate(DocumentTemplate):
    """Lays out an :class:`InvoiceDocument` on the shared page frame."""

    def __init__(self, document: InvoiceDocument, *, gettext: Gettext | None = None) -> None:
        self.document = document
        _ = gettext or untranslated
        super().__init__(
            document.letterhead,
            title=document.title,
            subject=_("Elektronische Rechnung %(reference)s") % {"reference": document.reference},
            reference=document.reference,
            created_at=document.received_at,
            language=document.language,
            qr_payload=document.reference,
            gettext=gettext,
        )

    # Formatting ----------------------------------------------------------------------------

    def money(self, amount: Decimal | None) -> str:
        if amount is None:
            return ""
        return format_currency(amount, self.document.currency or "EUR", locale=self._locale)

    def number(self, value: Decimal | None) -> str:
        if value is None:
            return ""
        return format_decimal(value, format="#,##0.####", locale=self._locale)

    @property
    def _locale(self) -> str:
        return babel_locale(self.document.language)

    # Layout --------------------------------------------------------------------------------

    def body(self) -> list[Flowable]:
        return [
            *self.heading_block(),
            *self.key_data(self.document.sections),
            *self.line_table(),
            *self.vat_table(),
            *self.total_table(),
            *self.key_data(self.document.closing_sections),
            *self.notice_list(),
            *self.embedded_note(),
        ]

    def _pairs(self, pairs: list[tuple[str, str]]) -> Table:
        label, value = self.styles.label, self.styles.value
        data = [
            table_row([(key, label, LABEL_WIDTH - CELL_PADDING), (text, value, VALUE_WIDTH - CELL_PADDING)])
            for key, text in pairs
        ]
        return Table(
            data,
            colWidths=[LABEL_WIDTH, VALUE_WIDTH],
            style=[*ROW_STYLE, *column_styles([label, value])],
            hAlign="LEFT",
            splitInRow=1,
        )

    def heading_block(self) -> list[Flowable]:
        _ = self.gettext
        document = self.document
        pairs = [
            (_("Aktenzeichen"), document.reference),
            (_("Eingegangen am"),
             _("%(time)s Uhr") % {"time": local_time(document.received_at, document.language)}),
        ]
        if document.office_name:
            pairs.append((_("Zuständige Stelle"), document.office_name))
        summary = self._pairs(pairs)
        summary.setStyle([
            ("BACKGROUND", (0, 0), (-1, -1), SUMMARY_BACKGROUND),
            ("LEFTPADDING", (0, 0), (-1, -1), 2 * mm),
            ("LINEBELOW", (0, 0), (-1, -1), 0, colors.white),
        ])
        return [Paragraph(markup(document.title), self.styles.title), summary]

    def key_data(self, sections: Sequence[AnswerSection]) -> list[Flowable]:
        """Sections of label/text pairs; empty rows and sections are left out."""
        flowables: list[Flowable] = []
        for section in sections:
            rows: list[AnswerRow] = [row for group in section.groups for row in group.rows if row.text]
            if rows:
                flowables += heading(section.title, self.styles.heading)
                flowables.append(self._pairs([(row.label, row.text) for row in rows]))
        return flowables

    def line_table(self) -> list[Flowable]:
        _ = self.gettext
        styles = self.styles
        flowables: list[Flowable] = heading(_("Positionen"), styles.heading)
        if not self.document.lines:
            return [*flowables, Paragraph(markup(_("Die Rechnung enthält keine Positionen.")), styles.body)]
        column_style = [styles.value, styles.value, styles.value_right, styles.value_right,
                        styles.value_right, styles.value_right]
        header = [_("Pos."), _("Bezeichnung"), _("Menge"), _("Einzelpreis"), _("USt."), _("Netto")]
        header_style = [styles.label, styles.label, *[styles.label_right] * 4]
        data = [table_row([(text, style, width - CELL_PADDING)
                           for text, style, width in zip(header, header_style, LINE_COLUMNS, strict=True)])]
        for line in self.document.lines:
            quantity = " ".join(part for part in (self.number(line.quantity), line.unit) if part)
            rate = f"{self.number(line.vat_rate)} %" if line.vat_rate is not None else line.vat_category
            cells = [line.position, line.description, quantity, self.money(line.unit_price), rate,
                     self.money(line.net_amount)]
            columns = zip(cells, column_style, LINE_COLUMNS, strict=True)
            data.append(table_row([(text, style, width - CELL_PADDING) for text, style, width in columns]))
        table = Table(data, colWidths=list(LINE_COLUMNS), style=ROW_STYLE, hAlign="LEFT", repeatRows=1,
                      splitInRow=1)
        table.setStyle([
            *column_styles(column_style),
            ("FONT", (0, 0), (-1, 0), styles.label.fontName, styles.label.fontSize, styles.label.leading),
            ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black),
            ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
        ])
        flowables.append(table)
        return flowables

    def vat_table(self) -> list[Flowable]:
        _ = self.gettext
        styles = self.styles
        if not self.document.vat:
            return []
        widths = [CONTENT_WIDTH - 100 * mm, 22 * mm, 42 * mm, 36 * mm]
        column_style = [styles.value, styles.value_right, styles.value_right, styles.value_right]
        header = [_("Kategorie"), _("Satz"), _("Nettobetrag"), _("Steuerbetrag")]
        header_style = [styles.label, *[styles.label_right] * 3]
        data = [table_row([(text, style, width - CELL_PADDING)
                           for text, style, width in zip(header, header_style, widths, strict=True)])]
        for row in self.document.vat:
            category = " – ".join(part for part in (row.category, row.exemption_reason) if part)
            rate = f"{self.number(row.rate)} %" if row.rate is not None else ""
            cells = [category, rate, self.money(row.taxable_amount), self.money(row.tax_amount)]
            data.append(table_row([(text, style, width - CELL_PADDING)
                                   for text, style, width in zip(cells, column_style, widths, strict=True)]))
        table = Table(data, colWidths=widths, style=ROW_STYLE, hAlign="LEFT", splitInRow=1)
        table.setStyle([
            *column_styles(column_style),
            ("FONT", (0, 0), (-1, 0), styles.label.fontName, styles.label.fontSize, styles.label.leading),
            ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black),
            ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
        ])
        return [*heading(_("Umsatzsteuer"), styles.heading), table]

    def total_table(self) -> list[Flowable]:
        _ = self.gettext
        styles = self.styles
        if not self.document.totals:
            return []
        label_width, amount_width = CONTENT_WIDTH - 45 * mm, 45 * mm
        data = []
        commands: list[tuple[object, ...]] = []
        for index, total in enumerate(self.document.totals):
            label_style = styles.label if total.emphasised else styles.value
            amount_style = styles.label_right if total.emphasised else styles.value_right
            data.append(table_row([(total.label, label_style, label_width - CELL_PADDING),
                                   (self.money(total.amount), amount_style, amount_width)]))
            if total.emphasised:
                commands += [
                    ("FONT", (0, index), (-1, index), styles.label.fontName, styles.label.fontSize,
                     styles.label.leading),
                    ("LINEABOVE", (0, index), (-1, index), 0.75, colors.black),
                ]
        table = Table(data, colWidths=[label_width, amount_width], style=ROW_STYLE, hAlign="LEFT",
                      splitInRow=1)
        table.setStyle([*column_styles([styles.value, styles.value_right]), *commands,
                        ("RIGHTPADDING", (-1, 0), (-1, -1), 0)])
        return [*heading(_("Beträge"), styles.heading), table]

    def notice_list(self) -> list[Flowable]:
        _ = self.gettext
        if not self.document.notices:
            return []
        flowables: list[Flowable] = heading(_("Hinweise der Prüfung (keine Fehler)"), self.styles.heading)
        flowables += [Paragraph(markup(f"• {notice}"), self.styles.body) for notice in self.document.notices]
        return flowables

    def embedded_note(self) -> list[Flowable]:
        _ = self.gettext
        note = _(
            "Lesefassung einer elektronischen Rechnung. Maßgeblich ist die Rechnung im XML-Format; sie ist "
            "unverändert als %(filename)s in diese PDF/A-3-Datei eingebettet, die ausgelesenen Angaben als "
            "data.json."
        ) % {"filename": self.document.xml_filename}
        return [Spacer(1, 6 * mm), Paragraph(markup(note), self.styles.small)]

    def embedded_files(self) -> list[EmbeddedFile]:
        """The original invoice XML (the source of this view) and the extracted data."""
        _ = self.gettext
        return [
            EmbeddedFile(self.document.xml_filename, self.document.xml, "application/xml",
                         Relationship.SOURCE, _("Elektronische Rechnung (Original)")),
            EmbeddedFile("data.json", self.document.data_json, "application/json", Relationship.DATA,
                         _("Ausgelesene Rechnungsdaten")),
        ]


def render_invoice_pdf(
    document: InvoiceDocument, *, pdfa: bool = True, gettext: Gettext | None = None
) -> bytes:
    """The readable PDF/A-3b of a received invoice, with the original XML embedded unchanged."""
    return InvoiceTemplate(document, gettext=gettext).render(pdfa=pdfa)
