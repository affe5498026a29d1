"""PDF/A-3b finishing with pikepdf, and reading the embedded files back.

reportlab draws the pages (fonts embedded, no transparency); :func:`make_pdfa3` then adds what
PDF/A-3b asks of the file as a whole: XMP metadata declaring part 3 conformance B and matching the
Info dictionary, an sRGB output intent with its ICC profile, the embedded files as associated files
(/AF, /AFRelationship, MIME subtype, /Params with dates, size and MD5 checksum), the language, and
a document /ID derived from the content, so identical input gives identical bytes.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from datetime import datetime
from importlib.resources import files
from io import BytesIO

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from .model import EmbeddedFile

SRGB_CONDITION = "sRGB IEC61966-2.1"
PRODUCER = "Kommunalportal (reportlab, pikepdf)"


@functools.cache
def srgb_profile() -> bytes:
    """The sRGB ICC profile shipped with this package (made once with Pillow's ImageCms)."""
    return files(__package__).joinpath("srgb.icc").read_bytes()


def pdf_date(moment: datetime) -> str:
    """A PDF date string ("D:20261125174800+01'00'") for an aware datetime."""
    return pikepdf.models.metadata.encode_pdf_date(moment)


def _attach(pdf: pikepdf.Pdf, embedded: EmbeddedFile, date: str) -> pikepdf.Object:
    spec = pikepdf.AttachedFileSpec(
        pdf,
        embedded.data,
        description=embedded.description,
        filename=embedded.filename,
        mime_type=embedded.media_type,
        creation_date=date,
        mod_date=date,
        relationship=Name("/" + embedded.relationship.value),
    )
    pdf.attachments[embedded.filename] = spec
    filespec = spec.obj
    stream = filespec.EF.F
    # PDF/A-3 wants size and checksum in /Params; write them rather than trust the helper to.
    stream.Params.Size = len(embedded.data)
    stream.Params.CheckSum = String(hashlib.md5(embedded.data, usedforsecurity=False).digest())
    return filespec


def _output_intent(pdf: pikepdf.Pdf) -> Dictionary:
    profile = pdf.make_stream(srgb_profile())
    profile.N = 3
    return pdf.make_indirect(
        Dictionary(
            Type=Name.OutputIntent,
            S=Name.GTS_PDFA1,
            OutputConditionIdentifier=String(SRGB_CONDITION),
            Info=String(SRGB_CONDITION),
            RegistryName=String("http://www.color.org"),
            DestOutputProfile=profile,
        )
    )


def make_pdfa3(
    pdf_bytes: bytes,
    *,
    title: str,
    author: str,
    subject: str,
    created_at: datetime,
    attachments: Sequence[EmbeddedFile] = (),
    language: str = "de-DE",
    creator_tool: str = "Kommunalportal",
) -> bytes:
    """Turn a PDF drawn by reportlab (with embedded fonts, no transparency) into PDF/A-3b.

    ``created_at`` (aware) is the creation and modification date. The file's /ID is
    derived from its content, so the same input always gives the same bytes. Not checked here:
    that the drawn content itself is conforming; the portal's templates take care of that.
    """
    if created_at.tzinfo is None:
        raise ValueError("created_at must be timezone-aware")
    date = pdf_date(created_at)
    with pikepdf.open(BytesIO(pdf_bytes)) as pdf:
        # Start the Info dictionary afresh: keys without an XMP equivalent (reportlab's /Trapped)
        # would break the correspondence PDF/A requires; the metadata block below refills it.
        pdf.trailer.Info = pdf.make_indirect(Dictionary())
        associated = [_attach(pdf, embedded, date) for embedded in attachments]
        if associated:
            pdf.Root.AF = pdf.make_indirect(Array(associated))
        pdf.Root.OutputIntents = Array([_output_intent(pdf)])
        pdf.Root.Lang = String(language)
        pdf.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
        iso_date = created_at.isoformat()
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=True) as meta:
            # Exactly the properties with an Info counterpart, plus the PDF/A identification:
            # each property set costs pikepdf a walk of the XMP tree.
            meta["dc:title"] = title
            meta["dc:creator"] = [author]
            meta["dc:description"] = subject
            meta["pdf:Producer"] = PRODUCER
            meta["xmp:CreatorTool"] = creator_tool
            meta["xmp:CreateDate"] = iso_date
            meta["xmp:ModifyDate"] = iso_date
            meta["pdfaid:part"] = "3"
            meta["pdfaid:conformance"] = "B"
        out = BytesIO()
        pdf.save(
            out,
            min_version="1.7",
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
            # The metadata above is complete; letting pikepdf add pdf:PDFVersion would rewrite it.
            fix_metadata_version=False,
            deterministic_id=True,
        )
    return out.getvalue()


def extract_embedded_files(pdf_bytes: bytes) -> dict[str, bytes]:
    """The files embedded in a PDF, by file name (empty for a PDF without any).

    Bytes that are not a readable PDF raise ``pikepdf.PdfError``.
    """
    with pikepdf.open(BytesIO(pdf_bytes)) as pdf:
        return {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}
