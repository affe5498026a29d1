"""Uploading e-invoices: valid ones become submissions of the finance office, invalid ones leave nothing."""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.delivery.models import Delivery, DeliveryState
from app.documents import extract_embedded_files
from app.einvoice import services
from app.einvoice.services import InvoiceRefused, InvoiceServiceUnavailable, accept_invoice
from app.extensions import db
from app.staff.inbox.exports import submission_zip
from app.storage import blob_store
from app.submissions.models import Attachment, Submission

from .builders import LEITWEG, facturx_pdf, invoice_commune, plain_pdf, sample


def _post(client: FlaskClient, slug: str, data: bytes, filename: str, **fields: str) -> Any:
    return client.post(
        f"/{slug}/services/e-rechnung/upload",
        data={"invoice": (io.BytesIO(data), filename), "consent": "y", **fields},
        content_type="multipart/form-data",
    )


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _assert_nothing_stored() -> None:
    assert _count(Submission) == 0
    assert _count(Attachment) == 0
    assert _count(Delivery) == 0


@pytest.mark.parametrize("name", ["xrechnung-ubl.xml", "xrechnung-cii.xml"])
def test_valid_invoice_is_routed_to_the_finance_office_byte_for_byte(client: FlaskClient, name: str) -> None:
    setting = invoice_commune(webhook_url="https://erp.example.org/hook")
    upload = sample(name)
    response = _post(client, setting.commune.slug, upload, name, email="buchhaltung@firma.example")
    assert response.status_code == 303
    submission = db.session.scalars(select(Submission)).one()
    assert response.headers["Location"].endswith(f"/status/{submission.reference}/confirmation")
    assert submission.office_id == setting.office.id
    assert submission.service_slug == "e-rechnung"
    assert submission.submitter_email == "buchhaltung@firma.example"
    (attachment,) = submission.attachments
    stored = blob_store().read(attachment.storage_key)
    assert stored == upload
    assert attachment.sha256 == hashlib.sha256(upload).hexdigest()
    assert attachment.filename == name and attachment.media_type == "application/xml"
    assert submission.answers["leitweg_id"] == LEITWEG
    assert submission.answers["rechnungsdaten"]["buyer_reference"] == LEITWEG
    # The readable view: a PDF/A-3 that carries the original XML unchanged.
    assert submission.pdf_key is not None
    embedded = extract_embedded_files(blob_store().read(submission.pdf_key))
    assert embedded[name] == upload
    assert "data.json" in embedded
    rows = {row.channel.value: row for row in db.session.scalars(select(Delivery))}
    assert rows.keys() == {"email", "webhook", "citizen"}
    # The sender's confirmation goes through the outbox like the office's copies (never lost to
    # an SMTP failure at upload time); sent after the commit, its stored message is erased.
    assert rows["citizen"].target == "buchhaltung@firma.example"
    assert rows["citizen"].state is DeliveryState.DELIVERED
    assert rows["citizen"].payload_stored is None
    confirmation = client.get(response.headers["Location"])
    assert confirmation.status_code == 200
    assert submission.reference in confirmation.get_data(as_text=True)


def test_extracted_key_data_of_both_syntaxes(app: Flask) -> None:
    setting = invoice_commune()
    ubl = accept_invoice(setting.commune, sample("xrechnung-ubl.xml"), "ubl.xml")
    cii = accept_invoice(setting.commune, sample("xrechnung-cii.xml"), "cii.xml")
    assert ubl.submission.answers["zahlbetrag"] == "1.487,50\xa0€"
    assert ubl.submission.answers["iban"] == "DE02120300000000202051"
    assert ubl.submission.answers["verkaeufer_name"] == "Malerbetrieb Krause GmbH"
    assert ubl.submission.answers["rechnungsdatum"] == "02.11.2026"
    assert "Wandanstrich" in ubl.submission.answers["positionen"]
    assert cii.submission.answers["format"] == "XRechnung 3.0 (UN/CEFACT CII D16B)"
    assert cii.submission.answers["rechnungsdaten"]["totals"]["amount_due"] == "476.00"
    assert cii.submission.answers["rechnungsdaten"]["vat"][0]["tax_amount"] == "76.00"
    assert cii.submission.submitter_name == "Haustechnik Lehmann e.K."
    assert ubl.submission.reference != cii.submission.reference


def test_zugferd_pdf_is_accepted_with_pdf_and_embedded_xml_kept(client: FlaskClient) -> None:
    setting = invoice_commune()
    xml = sample("xrechnung-cii.xml")
    pdf = facturx_pdf(xml)
    response = _post(client, setting.commune.slug, pdf, "rechnung-2026-1187.pdf")
    assert response.status_code == 303
    submission = db.session.scalars(select(Submission)).one()
    original, extracted = submission.attachments
    assert blob_store().read(original.storage_key) == pdf
    assert original.media_type == "application/pdf"
    assert blob_store().read(extracted.storage_key) == xml
    assert extracted.filename == "factur-x.xml"
    assert submission.answers["rechnungsnummer"] == "2026-1187"


def test_pdf_without_invoice_xml_is_refused(client: FlaskClient) -> None:
    setting = invoice_commune()
    response = _post(client, setting.commune.slug, plain_pdf(), "scan.pdf")
    assert response.status_code == 422
    assert "keine eingebettete Rechnung" in response.get_data(as_text=True)
    _assert_nothing_stored()


@pytest.mark.parametrize(
    ("name", "rules"),
    [
        ("invalid-malformed.xml", ["XML"]),
        ("invalid-xsd-ubl.xml", ["XSD"]),
        ("invalid-br-co-10-ubl.xml", ["BR-CO-10"]),
        ("invalid-br-de-2-cii.xml", ["BR-DE-2"]),
        ("invalid-br-de-15-ubl.xml", ["BR-DE-15", "BT-10-LEITWEG"]),
        ("wrong-leitweg-ubl.xml", ["BT-10-LEITWEG"]),
    ],
)
def test_invalid_invoice_is_refused_with_the_report_and_nothing_stored(
    client: FlaskClient, name: str, rules: list[str]
) -> None:
    setting = invoice_commune()
    response = _post(client, setting.commune.slug, sample(name), name)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<title>Fehler:" in page
    assert "Prüfbericht: Die Rechnung wurde nicht angenommen" in page
    for rule in rules:
        assert f"Regel {rule}" in page
    _assert_nothing_stored()


def test_wrong_leitweg_id_names_the_communes_ids(client: FlaskClient) -> None:
    setting = invoice_commune()
    response = _post(client, setting.commune.slug, sample("wrong-leitweg-ubl.xml"), "r.xml")
    page = response.get_data(as_text=True)
    assert "12069656-0002-95" in page and LEITWEG in page


def test_report_says_where_with_the_line(client: FlaskClient) -> None:
    setting = invoice_commune()
    response = _post(client, setting.commune.slug, sample("invalid-br-de-2-cii.xml"), "r.xml")
    page = response.get_data(as_text=True)
    path = "/CrossIndustryInvoice/SupplyChainTradeTransaction/ApplicableHeaderTradeAgreement/SellerTradeParty"
    assert path in page
    assert "(Zeile 79)" in page


def test_refusal_by_the_service_carries_the_report(app: Flask) -> None:
    setting = invoice_commune()
    with pytest.raises(InvoiceRefused) as refused:
        accept_invoice(setting.commune, sample("invalid-br-co-10-ubl.xml"), "r.xml")
    assert "BR-CO-10" in refused.value.report.rules()
    _assert_nothing_stored()


def test_commune_without_leitweg_ids_refuses_every_invoice(app: Flask) -> None:
    setting = invoice_commune(leitweg_ids=[])
    with pytest.raises(InvoiceRefused) as refused:
        accept_invoice(setting.commune, sample("xrechnung-ubl.xml"), "r.xml")
    assert refused.value.report.rules() == {"BT-10-LEITWEG"}


def test_twenty_megabytes_of_non_xml_are_refused_with_a_clear_message(client: FlaskClient) -> None:
    setting = invoice_commune()
    junk = b"\x00\x01binary" * (20_000_000 // 8)
    response = _post(client, setting.commune.slug, junk, "rechnung.xml")
    assert response.status_code == 422
    assert "Die Datei ist kein wohlgeformtes XML" in response.get_data(as_text=True)
    _assert_nothing_stored()


def test_upload_larger_than_the_limit_is_refused_before_parsing(app: Flask) -> None:
    setting = invoice_commune()
    with pytest.raises(InvoiceRefused) as refused:
        accept_invoice(setting.commune, b"<" * (services.MAX_INVOICE_BYTES + 1), "r.xml")
    assert "zu groß" in refused.value.report.errors[0].text


def test_xxe_upload_is_refused_without_reading_files(client: FlaskClient) -> None:
    setting = invoice_commune()
    payload = (
        b'<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&xxe;</Invoice>'
    )
    response = _post(client, setting.commune.slug, payload, "xxe.xml")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "DOCTYPE" in page and "root:x:" not in page
    _assert_nothing_stored()


def test_missing_file_is_a_form_error(client: FlaskClient) -> None:
    setting = invoice_commune()
    response = client.post(f"/{setting.commune.slug}/services/e-rechnung/upload", data={})
    assert response.status_code == 400
    assert "Bitte wählen Sie die Rechnungsdatei aus." in response.get_data(as_text=True)


def test_upload_page_names_the_leitweg_ids_and_uses_the_components(client: FlaskClient) -> None:
    setting = invoice_commune()
    page = client.get(f"/{setting.commune.slug}/services/e-rechnung/upload").get_data(as_text=True)
    assert LEITWEG in page
    assert 'type="file"' in page and 'enctype="multipart/form-data"' in page
    assert page.count("<h1") == 1


def test_commune_that_does_not_offer_the_service_answers_404(client: FlaskClient) -> None:
    setting = invoice_commune()
    setting.choice.enabled = False
    db.session.commit()
    assert client.get(f"/{setting.commune.slug}/services/e-rechnung/upload").status_code == 404
    with pytest.raises(InvoiceServiceUnavailable):
        accept_invoice(setting.commune, sample("xrechnung-ubl.xml"), "r.xml")


def test_export_zip_holds_the_original_xml_and_the_readable_pdf(app: Flask) -> None:
    setting = invoice_commune()
    outcome = accept_invoice(setting.commune, sample("xrechnung-ubl.xml"), "RE-2026-0042.xml")
    archive = zipfile.ZipFile(io.BytesIO(submission_zip(outcome.submission)))
    names = archive.namelist()
    assert archive.read("anlagen/01-RE-2026-0042.xml") == sample("xrechnung-ubl.xml")
    assert f"{outcome.submission.reference}.pdf" in names


def test_warnings_do_not_refuse_and_are_kept_for_the_clerk(client: FlaskClient) -> None:
    setting = invoice_commune()
    # BR-CL-23 (unit code not in the code list) is a warning in the XRechnung scenarios.
    upload = sample("xrechnung-ubl.xml").replace(b'unitCode="MTK"', b'unitCode="QQQ"')
    response = _post(client, setting.commune.slug, upload, "r.xml")
    assert response.status_code == 303
    submission = db.session.scalars(select(Submission)).one()
    assert "BR-CL-23" in submission.answers["pruefhinweise"]
    assert blob_store().read(submission.attachments[0].storage_key) == upload
    confirmation = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Die Prüfung ergab einen Hinweis" in confirmation


def test_the_senders_confirmation_survives_a_mail_server_that_is_down_at_upload(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to be sent once right after the commit and lost when SMTP failed."""
    from datetime import timedelta

    from delivery.servers import SmtpRecorder, free_port

    from app.delivery.worker import process_due
    from app.timeutil import utcnow

    server = SmtpRecorder().start()
    try:
        for key, value in {
            "MAIL_ENABLED": True, "MAIL_SERVER": server.host, "MAIL_PORT": free_port(),
            "MAIL_USE_TLS": False, "MAIL_USE_SSL": False, "MAIL_USERNAME": "",
            "PUBLIC_BASE_URL": "https://portal.example", "DELIVERY_ATTEMPT_AFTER_COMMIT": True,
            "DELIVERY_TIMEOUT_SECONDS": 3, "DELIVERY_AFTER_COMMIT_TIMEOUT_SECONDS": 3,
        }.items():
            monkeypatch.setitem(app.config, key, value)
        setting = invoice_commune()
        outcome = accept_invoice(
            setting.commune, sample("xrechnung-ubl.xml"), "ubl.xml", email="buchhaltung@firma.example"
        )
        db.session.expire_all()
        row = db.session.scalars(select(Delivery).where(Delivery.channel == "citizen")).one()
        assert row.state is DeliveryState.PENDING and row.payload_stored is not None
        assert outcome.token not in row.payload_stored  # encrypted while it waits

        monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
        process_due(now=utcnow() + timedelta(days=1))
        [mail] = [m for m in server.wait_for(2) if m.rcpt_tos == ("buchhaltung@firma.example",)]
        assert outcome.submission.reference in mail.message["Subject"]
        assert outcome.token in mail.message.get_body(preferencelist=("plain",)).get_content()
        db.session.expire_all()
        row = db.session.get(Delivery, row.id)
        assert row is not None and row.state is DeliveryState.DELIVERED and row.payload_stored is None
    finally:
        server.stop()
