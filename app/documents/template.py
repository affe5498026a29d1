"""The page frame every portal document shares: letterhead, footer with "Seite x von y", metadata.

A document type subclasses :class:`DocumentTemplate` and implements :meth:`body` (the flowables
below the letterhead); :meth:`render` lays them out on A4 pages. The submission PDF is one such
type; the e-invoice view is meant to be the next.
"""

from __future__ import annotations

import functools
import itertools
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

import segno
from PIL import Image as PILImage
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import FILL_NON_ZERO, Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Table,
)

from .fonts import BOLD, REGULAR, printable, register_fonts
from .model import EmbeddedFile, Letterhead
from .pdfa import make_pdfa3

log = logging.getLogger(__name__)

Gettext = Callable[[str], str]

PAGE_WIDTH = A4[0]
MARGIN = 20 * mm
FOOTER_HEIGHT = 12 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
ARMS_MAX_HEIGHT = 24 * mm
ARMS_MAX_WIDTH = 22 * mm
QR_SIZE = 26 * mm
# The largest coat of arms we keep, in pixels: enough for 300 dpi at the printed size.
ARMS_MAX_PIXELS = (300, 300)
MUTED = colors.HexColor("#505a5f")
RULE = colors.HexColor("#b1b4b6")
# Room a heading needs below it on the page, or it moves to the next page with what follows. A
# heading's room covers a subheading right below it and that one's room, so neither is orphaned.
SUBHEADING_ROOM = 25 * mm
HEADING_ROOM = SUBHEADING_ROOM + 15 * mm


# Table cells set their own font even when they only hold paragraphs; without this it would be
# reportlab's default Helvetica, which is not embedded and so not allowed in PDF/A.
TABLE_FONT = ("FONT", (0, 0), (-1, -1), REGULAR, 9)
NO_PADDING = [(side, (0, 0), (-1, -1), 0)
              for side in ("LEFTPADDING", "RIGHTPADDING", "TOPPADDING", "BOTTOMPADDING")]


def prepare_reportlab() -> None:
    """The process-wide reportlab set-up the portal's documents rely on (idempotent, cheap)."""
    register_fonts()
    # Streams are Flate-compressed binary anyway; ASCII85 on top only costs time, here and again
    # in pikepdf, which has to decode it before it can write the streams out.
    rl_config.useA85 = 0


def untranslated(message: str) -> str:
    """The default ``gettext``: the German source text as it is."""
    return message


def markup(text: str) -> str:
    """Plain text as reportlab paragraph markup: escaped, line breaks kept, undrawable glyphs replaced."""
    return escape(printable(text)).replace("\r\n", "\n").replace("\n", "<br/>")


def heading(text: str, style: ParagraphStyle, room: float = HEADING_ROOM) -> list[Flowable]:
    """A heading that never ends up alone at the foot of a page.

    A page break unless there is room for the heading and a few lines below it: the same effect as
    keepWithNext, without the KeepTogether that reportlab builds for that (and deep-copies the
    frame for on every wrap).
    """
    return [CondPageBreak(room), Paragraph(markup(text), style)]


def shortened(text: str, font: str, size: float, width: float) -> str:
    """The text cut with an ellipsis where it would run past ``width`` (for single-line places)."""
    if stringWidth(text, font, size) <= width:
        return text
    keep, drop = 0, len(text)
    while keep < drop:
        middle = (keep + drop + 1) // 2
        if stringWidth(text[:middle] + "…", font, size) <= width:
            keep = middle
        else:
            drop = middle - 1
    return text[:keep] + "…"


def fits(text: str, style: ParagraphStyle, width: float) -> bool:
    """Whether every line of the plain text fits into ``width`` in the style's font."""
    return all(stringWidth(line, style.fontName, style.fontSize) <= width for line in text.split("\n"))


def table_row(cells: list[tuple[str, ParagraphStyle, float]]) -> list[str | Paragraph]:
    """Cells of a table row: plain strings where all of them fit on their lines, else paragraphs.

    A plain string costs the table a fraction of what a Paragraph costs (no markup parsing, no line
    breaking); the row stays uniform so baselines line up. The table must carry the styles'
    fonts per column, see :func:`column_styles`.
    """
    texts = [printable(text).replace("\r\n", "\n") for text, _style, _width in cells]
    if all(fits(text, style, width) for text, (_text, style, width) in zip(texts, cells, strict=True)):
        return texts
    return [Paragraph(markup(text), style) for text, style, _width in cells]


def column_styles(styles: list[ParagraphStyle]) -> list[tuple[Any, ...]]:
    """Table style commands that draw plain-string cells of each column like its paragraph style."""
    commands: list[tuple[Any, ...]] = []
    for column, style in enumerate(styles):
        start, end = (column, 0), (column, -1)
        commands += [
            ("FONT", start, end, style.fontName, style.fontSize, style.leading),
            ("TEXTCOLOR", start, end, style.textColor),
            ("ALIGN", start, end, "RIGHT" if style.alignment == TA_RIGHT else "LEFT"),
        ]
    return commands


def _style(name: str, size: float, *, bold: bool = False, **options: Any) -> ParagraphStyle:
    options.setdefault("leading", round(size * 1.3, 1))
    return ParagraphStyle(name, fontName=BOLD if bold else REGULAR, fontSize=size, **options)


class Styles:
    """The paragraph styles of the portal's documents (all in the embedded DejaVu faces)."""

    def __init__(self) -> None:
        self.title = _style("title", 16, bold=True, spaceAfter=2 * mm)
        self.heading = _style("heading", 12.5, bold=True, spaceBefore=5 * mm, spaceAfter=2 * mm)
        self.subheading = _style("subheading", 10, bold=True, textColor=MUTED, spaceBefore=2 * mm,
                                 spaceAfter=1 * mm)
        self.body = _style("body", 9.5)
        self.label = _style("label", 9, bold=True)
        self.value = _style("value", 9)
        self.small = _style("small", 7.5, textColor=MUTED)
        self.checksum = _style("checksum", 7, leading=11.5)
        self.value_right = _style("value_right", 9, alignment=TA_RIGHT)
        self.label_right = _style("label_right", 9, bold=True, alignment=TA_RIGHT)
        self.letterhead_name = _style("letterhead_name", 14, bold=True)
        self.letterhead_line = _style("letterhead_line", 8.5, textColor=MUTED)


@functools.cache
def document_styles() -> Styles:
    """The one shared set of styles (reportlab only reads them, so building them once suffices)."""
    return Styles()


@functools.lru_cache(maxsize=32)
def _prepared_image(data: bytes) -> PILImage.Image | None:
    """The image as an opaque RGB bitmap of a sensible size, or None if Pillow cannot read it.

    PDF/A-3b allows transparency, but a flattened RGB image avoids soft masks and blending-space
    questions entirely, and a CMYK JPEG would clash with the sRGB output intent.
    """
    try:
        with PILImage.open(BytesIO(data)) as source:
            source.load()
            image = source.convert("RGBA")
    except (OSError, ValueError, SyntaxError, PILImage.DecompressionBombError) as error:
        log.warning("coat of arms left out: unreadable image (%s)", error)
        return None
    image.thumbnail(ARMS_MAX_PIXELS)
    background = PILImage.new("RGBA", image.size, (255, 255, 255, 255))
    return PILImage.alpha_composite(background, image).convert("RGB")


def coat_of_arms_flowable(data: bytes | None) -> Flowable | None:
    """The coat of arms scaled into its box, or None when there is none or it cannot be read."""
    if not data:
        return None
    image = _prepared_image(data)
    if image is None:
        return None
    width, height = image.size
    scale = min(ARMS_MAX_WIDTH / width, ARMS_MAX_HEIGHT / height)
    return _Picture(ImageReader(image), width * scale, height * scale)


class _Picture(Flowable):
    """A decoded bitmap at a fixed size (platypus' Image wants a file, we hold a Pillow image)."""

    def __init__(self, image: ImageReader, width: float, height: float) -> None:
        super().__init__()
        self.image = image
        self.width = width
        self.height = height

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.drawImage(self.image, 0, 0, self.width, self.height)


class QrCode(Flowable):
    """A QR code of ``value`` (error correction M, quiet zone of 4 modules), ``size`` wide and high.

    segno encodes it (choosing the mask by the standard's penalty rules, about twice as fast as
    reportlab's encoder); the dark modules are drawn as one filled path of a rectangle per run of
    dark modules in a row. Each run reaches a twentieth of a module into the row above, so no
    hairline shows between rows when a viewer anti-aliases.
    """

    QUIET_ZONE = 4

    def __init__(self, value: str, size: float) -> None:
        super().__init__()
        self.value = value
        self.width = self.height = size
        self.matrix = segno.make_qr(value, error="m", boost_error=False).matrix

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        modules = len(self.matrix)
        step = self.width / (modules + 2 * self.QUIET_ZONE)
        path = self.canv.beginPath()
        for row_number, row in enumerate(self.matrix):
            y = self.height - (row_number + self.QUIET_ZONE + 1) * step
            column = 0
            for dark, run in itertools.groupby(row):
                count = len(list(run))
                if dark:
                    path.rect((column + self.QUIET_ZONE) * step, y, count * step, step * 1.05)
                column += count
        # Non-zero winding: where the runs of two rows overlap, even-odd filling would leave a gap.
        self.canv.drawPath(path, stroke=0, fill=1, fillMode=FILL_NON_ZERO)


def qr_flowable(payload: str) -> QrCode:
    """The QR code of the letterhead, carrying ``payload``."""
    return QrCode(payload, QR_SIZE)


class _NumberedCanvas(Canvas):
    """A canvas that holds its pages back until the end, so every footer can say "von y"."""

    def __init__(self, *args: Any, footer: Callable[[Canvas, int, int], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._held_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._held_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._held_pages)
        for number, state in enumerate(self._held_pages, start=1):
            self.__dict__.update(state)
            self._footer(self, number, total)
            super().showPage()
        super().save()


class DocumentTemplate(ABC):
    """An A4 document of the portal: the commune's letterhead, a body, and a numbered footer.

    A document type implements :meth:`body` and, if it carries machine-readable data, overrides
    :meth:`embedded_files`. ``gettext`` translates the fixed texts (German source strings); the
    office's documents are German, so the default leaves them as they are. ``qr_payload`` puts a
    QR code in the letterhead. ``created_at`` (aware) is the PDF/A file's creation date; together
    with reportlab's invariant mode it makes the output byte-identical for identical input.
    """

    def __init__(
        self,
        letterhead: Letterhead,
        *,
        title: str,
        subject: str,
        reference: str,
        created_at: datetime,
        language: str = "de-DE",
        qr_payload: str | None = None,
        gettext: Gettext | None = None,
    ) -> None:
        prepare_reportlab()
        self.letterhead = letterhead
        self.title = title
        self.subject = subject
        self.reference = reference
        self.created_at = created_at
        self.language = language
        self.qr_payload = qr_payload
        self.gettext: Gettext = gettext or untranslated
        self.styles = document_styles()

    @abstractmethod
    def body(self) -> list[Flowable]:
        """The flowables below the letterhead."""

    def embedded_files(self) -> list[EmbeddedFile]:
        """Files the PDF/A-3 carries as associated files (none unless a document type adds some)."""
        return []

    def letterhead_flowables(self) -> list[Flowable]:
        """The commune's name, address and contact, its coat of arms on the left and the QR code right."""
        head = self.letterhead
        styles = self.styles
        lines: list[Flowable] = [Paragraph(markup(head.name), styles.letterhead_name)]
        if head.official_name and head.official_name != head.name:
            lines.append(Paragraph(markup(head.official_name), styles.letterhead_line))
        if head.address_lines:
            lines.append(Paragraph(markup(" · ".join(head.address_lines)), styles.letterhead_line))
        contact = [part for part in (head.phone, head.email, head.website) if part]
        if contact:
            lines.append(Paragraph(markup(" · ".join(contact)), styles.letterhead_line))

        arms = coat_of_arms_flowable(head.coat_of_arms)
        cells: list[Any] = []
        widths: list[float] = []
        if arms is not None:
            cells.append(arms)
            widths.append(ARMS_MAX_WIDTH + 4 * mm)
        right_width = QR_SIZE + 4 * mm if self.qr_payload else 0
        middle_width = CONTENT_WIDTH - sum(widths) - right_width
        # A one-column table rather than a list of flowables: reportlab deep-copies a list cell on
        # every wrap, which made the letterhead the costliest part of the page.
        cells.append(Table([[line] for line in lines], colWidths=[middle_width],
                           style=[TABLE_FONT, *NO_PADDING], hAlign="LEFT", splitInRow=1))
        widths.append(middle_width)
        if self.qr_payload:
            cells.append(qr_flowable(self.qr_payload))
            widths.append(right_width)
        # Split within the row, so that even an absurdly long name cannot make the page overflow.
        table = Table([cells], colWidths=widths, hAlign="LEFT", splitInRow=1)
        table.setStyle([
            TABLE_FONT,
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            *NO_PADDING,
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
            ("LINEBELOW", (0, 0), (-1, -1), 0.75, RULE),
            # The QR code (if any) sits flush with the right margin.
            ("ALIGN", (-1, 0), (-1, 0), "RIGHT"),
        ])
        return [table]

    def draw_footer(self, canvas: Canvas, page: int, pages: int) -> None:
        """The rule and the footer line of every page: issuer and reference left, "Seite x von y" right."""
        _ = self.gettext
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, MARGIN, PAGE_WIDTH - MARGIN, MARGIN)
        canvas.setFillColor(MUTED)
        canvas.setFont(REGULAR, 7.5)
        baseline = MARGIN - 4 * mm
        numbering = _("Seite %(page)d von %(pages)d") % {"page": page, "pages": pages}
        canvas.drawRightString(PAGE_WIDTH - MARGIN, baseline, numbering)
        room = CONTENT_WIDTH - stringWidth(numbering, REGULAR, 7.5) - 5 * mm
        issuer = printable(f"{self.letterhead.name} · {self.reference}")
        canvas.drawString(MARGIN, baseline, shortened(issuer, REGULAR, 7.5, room))
        canvas.restoreState()

    def render(self, *, pdfa: bool = True) -> bytes:
        """The document as PDF/A-3b with its embedded files, or as reportlab drew it (``pdfa=False``)."""
        drawn = self.draw()
        if not pdfa:
            return drawn
        return make_pdfa3(
            drawn,
            title=self.title,
            author=self.letterhead.name,
            subject=self.subject,
            created_at=self.created_at,
            attachments=self.embedded_files(),
            language=self.language,
        )

    def draw(self) -> bytes:
        """Lay the letterhead and the body out on A4 pages: the PDF as reportlab writes it."""
        buffer = BytesIO()
        document = BaseDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN + FOOTER_HEIGHT - 4 * mm,
            title=printable(self.title),
            author=printable(self.letterhead.name),
            subject=printable(self.subject),
            creator="Kommunalportal",
            producer="Kommunalportal (reportlab)",
            lang=self.language,
            invariant=1,
            initialFontName=REGULAR,
            initialFontSize=9.5,
            initialLeading=12,
        )
        frame = Frame(
            document.leftMargin,
            document.bottomMargin,
            document.width,
            document.height,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
            id="body",
        )
        document.addPageTemplates([PageTemplate(id="page", frames=[frame])])
        story = [*self.letterhead_flowables(), *self.body()]
        document.build(story, canvasmaker=functools.partial(_NumberedCanvas, footer=self.draw_footer))
        return buffer.getvalue()
