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
import re
import zlib
from collections.abc import Sequence
from datetime import datetime
from importlib.resources import files
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

import pikepdf
from pikepdf import Array, Dictionary, Name, String

from .model import EmbeddedFile

SRGB_CONDITION = "sRGB IEC61966-2.1"
PRODUCER = "Kommunalportal (reportlab, pikepdf)"
#: zlib's default: the streams added here are small, and the level is fixed so the bytes are too.
COMPRESSION_LEVEL = 6
# Characters XML 1.0 does not allow (the XMP packet is XML).
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_XMP_TEMPLATE = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    '  <rdf:Description rdf:about=""\n'
    '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
    '    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"\n'
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
    '    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">\n'
    '   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>\n'
    '   <dc:creator><rdf:Seq><rdf:li>{author}</rdf:li></rdf:Seq></dc:creator>\n'
    '   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{subject}</rdf:li></rdf:Alt></dc:description>\n'
    '   <pdf:Producer>{producer}</pdf:Producer>\n'
    '   <xmp:CreatorTool>{creator_tool}</xmp:CreatorTool>\n'
    '   <xmp:CreateDate>{date}</xmp:CreateDate>\n'
    '   <xmp:ModifyDate>{date}</xmp:ModifyDate>\n'
    '   <pdfaid:part>3</pdfaid:part>\n'
    '   <pdfaid:conformance>B</pdfaid:conformance>\n'
    '  </rdf:Description>\n'
    ' </rdf:RDF>\n'
    '</x:xmpmeta>\n'
    '<?xpacket end="w"?>'
)


@functools.cache
def srgb_profile() -> bytes:
    """The sRGB ICC profile shipped with this package (made once with Pillow's ImageCms)."""
    return files(__package__).joinpath("srgb.icc").read_bytes()


def pdf_date(moment: datetime) -> str:
    """A PDF date string ("D:20261125174800+01'00'") for an aware datetime."""
    return pikepdf.models.metadata.encode_pdf_date(moment)


def _compressed(data: bytes) -> bytes:
    return zlib.compress(data, COMPRESSION_LEVEL)


@functools.cache
def _compressed_srgb_profile() -> bytes:
    return _compressed(srgb_profile())


def _flate_stream(
    pdf: pikepdf.Pdf, data: bytes, compressed: bytes | None = None, **keys: Any
) -> pikepdf.Stream:
    """A stream holding ``data`` Flate-compressed here (the file is saved without recompression)."""
    stream = pikepdf.Stream(pdf, compressed if compressed is not None else _compressed(data), **keys)
    stream.Filter = Name.FlateDecode
    return stream


def _attach(pdf: pikepdf.Pdf, embedded: EmbeddedFile, date: String) -> Dictionary:
    """The file specification of one associated file, with its embedded file stream."""
    data = embedded.data
    stream = _flate_stream(
        pdf,
        data,
        Type=Name.EmbeddedFile,
        Subtype=Name("/" + embedded.media_type),
        # PDF/A-3 wants size, dates and checksum (of the uncompressed bytes) in /Params.
        Params=Dictionary(
            CreationDate=date,
            ModDate=date,
            Size=len(data),
            CheckSum=String(hashlib.md5(data, usedforsecurity=False).digest()),
        ),
    )
    filename = String(embedded.filename)
    spec = Dictionary(
        Type=Name.Filespec,
        F=filename,
        UF=filename,
        EF=Dictionary(F=stream, UF=stream),
        AFRelationship=Name("/" + embedded.relationship.value),
    )
    if embedded.description:
        spec.Desc = String(embedded.description)
    return pdf.make_indirect(spec)


def _output_intent(pdf: pikepdf.Pdf) -> Dictionary:
    profile = _flate_stream(pdf, srgb_profile(), _compressed_srgb_profile(), N=3)
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


def xml_text(value: str) -> str:
    """``value`` fit for XMP and for the Info entry that must equal it: no XML-forbidden characters."""
    return _XML_FORBIDDEN.sub("\ufffd", value)


def xmp_packet(
    *, title: str, author: str, subject: str, creator_tool: str, producer: str, iso_date: str
) -> bytes:
    """The XMP metadata of a PDF/A-3b file: the properties with an Info counterpart and pdfaid.

    Written out directly (a fixed template, values escaped) rather than through pikepdf's XMP
    editor, which parses and re-serialises the tree for each property.
    """
    return _XMP_TEMPLATE.format(
        title=escape(title),
        author=escape(author),
        subject=escape(subject),
        producer=escape(producer),
        creator_tool=escape(creator_tool),
        date=escape(iso_date),
    ).encode("utf-8")


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
    The drawn streams are copied as they are (reportlab compresses them); the streams added
    here are compressed here, so the file is written without decoding or recompressing anything.
    """
    if created_at.tzinfo is None:
        raise ValueError("created_at must be timezone-aware")
    date = String(pdf_date(created_at))
    title, author, subject, creator_tool = map(xml_text, (title, author, subject, creator_tool))
    with pikepdf.open(BytesIO(pdf_bytes)) as pdf:
        # Start the Info dictionary afresh: keys without an XMP equivalent (reportlab's /Trapped)
        # would break the correspondence PDF/A requires. Every entry has its XMP property below.
        pdf.trailer.Info = pdf.make_indirect(
            Dictionary(
                Title=String(title),
                Author=String(author),
                Subject=String(subject),
                Creator=String(creator_tool),
                Producer=String(PRODUCER),
                CreationDate=date,
                ModDate=date,
            )
        )
        if attachments:
            associated = [_attach(pdf, embedded, date) for embedded in attachments]
            pdf.Root.AF = pdf.make_indirect(Array(associated))
            # The name tree of embedded files: one leaf, keys sorted as the format requires.
            ordered = sorted(zip((embedded.filename for embedded in attachments), associated, strict=True),
                             key=lambda pair: bytes(String(pair[0])))
            names = Array()
            for filename, spec in ordered:
                names.extend([String(filename), spec])
            if "/Names" not in pdf.Root:
                pdf.Root.Names = Dictionary()
            pdf.Root.Names.EmbeddedFiles = pdf.make_indirect(Dictionary(Names=names))
        pdf.Root.OutputIntents = Array([_output_intent(pdf)])
        pdf.Root.Lang = String(language)
        pdf.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
        # Uncompressed, as PDF/A wants the metadata stream readable by any tool.
        pdf.Root.Metadata = pdf.make_indirect(
            pikepdf.Stream(
                pdf,
                xmp_packet(
                    title=title,
                    author=author,
                    subject=subject,
                    creator_tool=creator_tool,
                    producer=PRODUCER,
                    iso_date=created_at.isoformat(),
                ),
                Type=Name.Metadata,
                Subtype=Name.XML,
            )
        )
        out = BytesIO()
        pdf.save(
            out,
            min_version="1.7",
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
            # Every stream is compressed already (reportlab's, and ours above) or must stay plain
            # (the XMP): qpdf copies them as they are instead of decoding and re-encoding each.
            compress_streams=False,
            stream_decode_level=pikepdf.StreamDecodeLevel.none,
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
