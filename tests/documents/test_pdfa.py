"""The PDF/A-3b side of the office's PDF: structure, metadata, output intent, fonts, embedded files.

veraPDF (the reference validator) is a Java application that is not available here; these tests
check, one by one, the requirements of ISO 19005-3 level B that the portal's documents touch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO

import pikepdf
import pytest
from reportlab.pdfgen.canvas import Canvas

from app.documents import (
    EmbeddedFile,
    Relationship,
    extract_embedded_files,
    make_pdfa3,
    render_submission_pdf,
)
from app.documents.pdfa import srgb_profile

from .samples import DATA_JSON, SCHEMA_JSON, make_document


def _open(pdf: bytes) -> pikepdf.Pdf:
    return pikepdf.open(BytesIO(pdf))


def _fonts(resources: pikepdf.Object) -> Iterator[pikepdf.Object]:
    """Every font reachable from a resource dictionary, through form XObjects too."""
    yield from resources.get("/Font", {}).values()
    for xobject in resources.get("/XObject", {}).values():
        if xobject.get("/Subtype") == pikepdf.Name.Form and "/Resources" in xobject:
            yield from _fonts(xobject.Resources)


def test_structure_passes_qpdf_check(sample_pdf: bytes) -> None:
    """What `qpdf --check` does, through pikepdf: structures, every stream decoded, every page parsed."""
    with _open(sample_pdf) as pdf:
        assert pdf.check_pdf_syntax() == []


def test_embedded_data_json_and_schema_equal_the_input(sample_pdf: bytes) -> None:
    assert extract_embedded_files(sample_pdf) == {"data.json": DATA_JSON, "schema.json": SCHEMA_JSON}


def test_xmp_declares_pdfa_3b_in_step_with_the_info_dictionary(sample_pdf: bytes) -> None:
    with _open(sample_pdf) as pdf:
        meta = pdf.open_metadata()
        assert meta.pdfa_status == "3B"
        assert meta["pdfaid:part"] == "3"
        assert meta["pdfaid:conformance"] == "B"
        assert meta["dc:title"] == "Anmeldung einer Wohnung"
        assert meta["dc:creator"] == ["Stadt Werder (Havel)"]
        assert meta["xmp:CreateDate"] == "2026-11-25T15:48:00+00:00"
        info = pdf.docinfo
        assert str(info.Title) == "Anmeldung einer Wohnung"
        assert str(info.Author) == "Stadt Werder (Havel)"
        assert str(info.Subject) == meta["dc:description"]
        assert str(info.Producer) == meta["pdf:Producer"]
        assert str(info.Creator) == meta["xmp:CreatorTool"]
        assert str(info.CreationDate) == str(info.ModDate) == "D:20261125154800+00'00"
        # Only keys that have an XMP equivalent (reportlab's /Trapped has none).
        assert set(info.keys()) <= {"/Title", "/Author", "/Subject", "/Keywords", "/Creator", "/Producer",
                                    "/CreationDate", "/ModDate"}
        assert str(pdf.Root.Lang) == "de-DE"


def test_metadata_stream_is_not_compressed(sample_pdf: bytes) -> None:
    with _open(sample_pdf) as pdf:
        assert "/Filter" not in pdf.Root.Metadata


def test_srgb_output_intent_with_the_shipped_icc_profile(sample_pdf: bytes) -> None:
    with _open(sample_pdf) as pdf:
        [intent] = pdf.Root.OutputIntents
        assert intent.S == pikepdf.Name.GTS_PDFA1
        assert str(intent.OutputConditionIdentifier) == "sRGB IEC61966-2.1"
        profile = intent.DestOutputProfile
        assert profile.N == 3
        data = profile.read_bytes()
    assert data == srgb_profile()
    # An ICC profile: signature "acsp", a monitor (display) class profile in RGB, version < 5.
    assert data[36:40] == b"acsp"
    assert data[12:16] == b"mntr"
    assert data[16:20] == b"RGB "
    assert data[8] < 5


def test_every_font_is_embedded(sample_pdf: bytes) -> None:
    """No standard-14 font sneaks in (reportlab's tables and drawings default to Helvetica)."""
    with _open(sample_pdf) as pdf:
        fonts = [font for page in pdf.pages for font in _fonts(page.Resources)]
        assert fonts
        for font in fonts:
            assert font.Subtype == pikepdf.Name.TrueType, font.BaseFont
            assert "/FontFile2" in font.FontDescriptor, font.BaseFont
            assert str(font.BaseFont).split("+", 1)[1] in ("DejaVuSans", "DejaVuSans-Bold")


def test_nothing_needs_transparency_or_encryption(sample_pdf: bytes) -> None:
    with _open(sample_pdf) as pdf:
        assert not pdf.is_encrypted
        assert "/Encrypt" not in pdf.trailer
        assert len(pdf.trailer.ID) == 2
        for page in pdf.pages:
            assert "/Group" not in page
            for state in page.Resources.get("/ExtGState", {}).values():
                assert float(state.get("/CA", 1)) == 1
                assert float(state.get("/ca", 1)) == 1
                assert state.get("/SMask", pikepdf.Name.None_) == pikepdf.Name.None_


def test_embedded_files_are_associated_files_with_params(sample_pdf: bytes) -> None:
    """/AF on the catalogue, /AFRelationship, MIME subtype, and /Params with dates, size and MD5."""
    expected = {
        "data.json": (DATA_JSON, "/Data", "/application/json"),
        "schema.json": (SCHEMA_JSON, "/Source", "/application/schema+json"),
    }
    with _open(sample_pdf) as pdf:
        associated = {str(spec.UF): spec for spec in pdf.Root.AF}
        assert set(associated) == set(expected) == set(pdf.attachments)
        for name, (data, relationship, subtype) in expected.items():
            spec = associated[name]
            assert str(spec.F) == name
            assert spec.AFRelationship == pikepdf.Name(relationship)
            stream = spec.EF.F
            assert stream.Subtype == pikepdf.Name(subtype)
            params = stream.Params
            assert params.Size == len(data)
            assert bytes(params.CheckSum) == hashlib.md5(data).digest()
            assert str(params.ModDate) == "D:20261125154800+00'00"
            assert stream.read_bytes() == data


def test_make_pdfa3_finishes_any_reportlab_pdf() -> None:
    """The finishing step is generic: the e-invoice view can hand it its own PDF and files."""
    buffer = BytesIO()
    canvas = Canvas(buffer, invariant=1)
    canvas.showPage()
    canvas.save()
    invoice = b"<Invoice/>"
    pdf = make_pdfa3(
        buffer.getvalue(),
        title="Rechnung",
        author="Gemeinde Schenkendöbern",
        subject="XRechnung",
        created_at=datetime(2026, 6, 1, 10, 0, tzinfo=UTC),
        attachments=[EmbeddedFile("xrechnung.xml", invoice, "text/xml", Relationship.ALTERNATIVE)],
    )
    assert extract_embedded_files(pdf) == {"xrechnung.xml": invoice}
    with _open(pdf) as document:
        assert document.open_metadata().pdfa_status == "3B"
        assert document.Root.AF[0].AFRelationship == pikepdf.Name.Alternative
        assert str(document.docinfo.Author) == "Gemeinde Schenkendöbern"


def test_without_pdfa_the_plain_drawing_carries_no_files() -> None:
    pdf = render_submission_pdf(make_document(), pdfa=False)
    assert extract_embedded_files(pdf) == {}
    with _open(pdf) as document:
        assert document.open_metadata().pdfa_status == ""


def test_extracting_from_bytes_that_are_no_pdf_raises_pdf_error() -> None:
    with pytest.raises(pikepdf.PdfError):
        extract_embedded_files(b"not a pdf")


def _finish_blank(**metadata: str) -> bytes:
    buffer = BytesIO()
    canvas = Canvas(buffer, invariant=1)
    canvas.showPage()
    canvas.save()
    values = {"title": "Antrag", "author": "Stadt", "subject": "Betreff", **metadata}
    return make_pdfa3(buffer.getvalue(), created_at=datetime(2026, 6, 1, 10, 0, tzinfo=UTC),
                      attachments=[EmbeddedFile("data.json", b"{}", "application/json", Relationship.DATA)],
                      **values)


def test_xmp_and_info_agree_on_text_with_markup_and_characters_xml_forbids() -> None:
    """The XMP is written from a template: markup is escaped, and a control character (which XML
    cannot carry) is replaced in the XMP and the Info dictionary alike, so they stay equal."""
    pdf = _finish_blank(title='Anträge <& "Zusagen">', author="Gemeinde\x0bSchenkendöbern",
                        subject="Łužyca & Chóśebuz")
    with _open(pdf) as document, document.open_metadata() as meta:
        info = document.docinfo
        assert meta.pdfa_status == "3B"
        assert meta["dc:title"] == str(info.Title) == 'Anträge <& "Zusagen">'
        assert meta["dc:creator"] == [str(info.Author)] == ["Gemeinde\ufffdSchenkendöbern"]
        assert meta["dc:description"] == str(info.Subject) == "Łužyca & Chóśebuz"


def test_added_streams_are_compressed_and_the_metadata_is_not(sample_pdf: bytes) -> None:
    """The file is saved without recompression, so the streams the finishing adds (ICC profile,
    embedded files) are compressed by it; the XMP stays plain."""
    with _open(sample_pdf) as pdf:
        profile = pdf.Root.OutputIntents[0].DestOutputProfile
        embedded = [spec.EF.F for spec in pdf.Root.AF]
        for stream in [profile, *embedded]:
            assert stream.Filter == pikepdf.Name.FlateDecode
            assert len(stream.read_raw_bytes()) < len(stream.read_bytes())
        assert "/Filter" not in pdf.Root.Metadata
        assert pdf.Root.Metadata.Type == pikepdf.Name.Metadata
        assert pdf.Root.Metadata.Subtype == pikepdf.Name.XML


def test_embedded_files_name_tree_is_sorted_by_name() -> None:
    buffer = BytesIO()
    canvas = Canvas(buffer, invariant=1)
    canvas.showPage()
    canvas.save()
    files = [EmbeddedFile(name, name.encode(), "application/json", Relationship.DATA)
             for name in ("zeta.json", "alpha.json", "Mitte.json")]
    pdf = make_pdfa3(buffer.getvalue(), title="t", author="a", subject="s",
                     created_at=datetime(2026, 6, 1, 10, 0, tzinfo=UTC), attachments=files)
    with _open(pdf) as document:
        keys = [str(key) for key in document.Root.Names.EmbeddedFiles.Names[::2]]
    assert keys == ["Mitte.json", "alpha.json", "zeta.json"]
    assert extract_embedded_files(pdf) == {file.filename: file.data for file in files}
