"""The invoice XML inside a ZUGFeRD / Factur-X PDF (a hybrid invoice: readable PDF, XML attached).

The ``factur-x`` library finds the embedded invoice (``factur-x.xml``, ``zugferd-invoice.xml``,
``xrechnung.xml``, …) among the PDF's attachments. It is asked not to check the XML itself: the
portal's validator does that, as for any uploaded XML, and reports every problem.
"""

from __future__ import annotations

import logging

from facturx import get_xml_from_pdf
from flask_babel import gettext as _

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"


class NoEmbeddedInvoice(ValueError):
    """The PDF carries no invoice XML (or is not a readable PDF); the message says which."""


def is_pdf(data: bytes) -> bool:
    """Whether ``data`` starts like a PDF file (the header may follow a few bytes of junk)."""
    return PDF_MAGIC in data[:1024]


def extract_invoice_xml(pdf: bytes) -> tuple[str, bytes]:
    """The file name and the unchanged bytes of the invoice XML embedded in ``pdf``.

    Raises :class:`NoEmbeddedInvoice` when the PDF cannot be read or holds no invoice XML
    (a plain PDF invoice is not an electronic invoice).
    """
    try:
        filename, xml = get_xml_from_pdf(pdf, check_xsd=False)
    except Exception as exc:
        # pypdf raises many kinds of errors for damaged files; all mean "cannot read this PDF".
        log.info("PDF upload not readable: %s: %s", type(exc).__name__, exc)
        raise NoEmbeddedInvoice(
            _("Die PDF-Datei konnte nicht gelesen werden. Bitte laden Sie die Rechnung erneut hoch.")
        ) from None
    if not filename or not xml:
        raise NoEmbeddedInvoice(
            _(
                "Die PDF-Datei enthält keine eingebettete Rechnung im XML-Format (ZUGFeRD/Factur-X). "
                "Eine PDF-Datei allein ist keine elektronische Rechnung; bitte laden Sie eine "
                "XRechnung oder eine ZUGFeRD-Rechnung ab Profil EN 16931 hoch."
            )
        )
    return str(filename), bytes(xml)
