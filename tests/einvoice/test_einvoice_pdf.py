"""The readable invoice view: PDF/A-3 with the original XML as its source, rendered reproducibly."""

from __future__ import annotations

import io

import pikepdf
from flask import Flask

from app.documents import extract_embedded_files
from app.einvoice import services
from app.storage import blob_store

from .builders import invoice_commune, sample


def test_readable_view_embeds_the_original_xml_as_its_source(app: Flask) -> None:
    setting = invoice_commune()
    xml = sample("xrechnung-cii.xml")
    outcome = services.accept_invoice(setting.commune, xml, "2026-1187.xml")
    stored = blob_store().read(outcome.submission.pdf_key)
    with pikepdf.open(io.BytesIO(stored)) as pdf:
        assert str(pdf.attachments["2026-1187.xml"].obj.AFRelationship) == "/Source"
        assert b"pdfaid:part" in pdf.Root.Metadata.read_bytes()
    embedded = extract_embedded_files(stored)
    assert embedded["2026-1187.xml"] == xml
    assert b'"amount_due": "476.00"' in embedded["data.json"]


def test_rendering_the_same_invoice_again_gives_the_stored_bytes(app: Flask) -> None:
    setting = invoice_commune()
    xml = sample("xrechnung-ubl.xml")
    outcome = services.accept_invoice(setting.commune, xml, "rechnung.xml")
    offered = services.invoice_service(setting.commune)
    assert offered is not None
    checked = services.check_invoice(xml, "rechnung.xml", leitweg_ids=None)
    spec = services.reading_spec(offered)
    document = services.invoice_document(outcome.submission, outcome.data, checked, spec)
    assert services.render_invoice_pdf(document) == blob_store().read(outcome.submission.pdf_key)
