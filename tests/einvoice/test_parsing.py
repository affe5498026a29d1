"""The key data read from UBL and CII by the one table-driven extractor.

These pin what the readable view shows where the two syntaxes (and UBL's two document
types) keep their data differently: fallbacks, the first of repeated parts, the tax
total in the document currency, and what is missing.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from app.einvoice.parsing import InvoiceData, Party, extract_invoice_data
from app.einvoice.validation import Syntax

from .builders import sample


def _ubl() -> str:
    return sample("xrechnung-ubl.xml").decode()


def _cii() -> str:
    return sample("xrechnung-cii.xml").decode()


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def _read(xml: str) -> InvoiceData:
    return extract_invoice_data(xml.encode())


def test_ubl_and_cii_samples_read_their_key_data() -> None:
    ubl, cii = _read(_ubl()), _read(_cii())
    assert (ubl.syntax, ubl.number, ubl.due_date) == (Syntax.UBL_INVOICE, "RE-2026-0042", date(2026, 12, 2))
    assert ubl.seller.name == "Malerbetrieb Krause" and ubl.seller.vat_id == "DE136695976"
    assert ubl.totals.vat_total == Decimal("237.50")
    assert (cii.syntax, cii.number, cii.issue_date) == (Syntax.CII, "2026-1187", date(2026, 11, 5))
    assert cii.seller.address_lines == ("Brandenburger Straße 5", "14467 Potsdam", "DE")
    assert [(line.id, line.unit, line.net_amount) for line in cii.lines] == [
        ("1", "H87", Decimal("360.00")),
        ("2", "C62", Decimal("40.00")),
    ]
    assert cii.totals.vat_total == Decimal("76.00") and cii.payment.means_code == "58"
    assert cii.notes == ("Wartung der Heizungsanlage in der Grundschule.",)


def test_a_ubl_credit_note_reads_its_own_lines_quantities_and_type_code() -> None:
    xml = _ubl().replace("xsd:Invoice-2", "xsd:CreditNote-2").replace("ubl:Invoice", "ubl:CreditNote")
    xml = xml.replace("cac:InvoiceLine", "cac:CreditNoteLine").replace("InvoicedQuantity", "CreditedQuantity")
    xml = xml.replace(
        "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>",
        "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>",
    )
    data = _read(xml)
    assert data.syntax is Syntax.UBL_CREDIT_NOTE and data.type_code == "381" and data.is_credit_note
    first = data.lines[0]
    assert (first.quantity, first.unit, first.unit_price) == (Decimal("50"), "MTK", Decimal("20.00"))


def test_ubl_fallbacks_party_name_and_due_date_in_the_first_payment_means() -> None:
    xml = _replace(_ubl(), "<cbc:DueDate>2026-12-02</cbc:DueDate>", "")
    xml = _replace(
        xml, "<cac:PaymentMeans>", "<cac:PaymentMeans><cbc:PaymentDueDate>2026-12-24</cbc:PaymentDueDate>"
    )
    xml = re.sub(r"<cac:PartyName>\s*<cbc:Name>Malerbetrieb Krause</cbc:Name>\s*</cac:PartyName>", "", xml)
    data = _read(xml)
    assert data.due_date == date(2026, 12, 24)
    assert data.seller.name == data.seller.legal_name == "Malerbetrieb Krause GmbH"


def test_the_first_of_repeated_parts_counts_and_the_tax_total_is_in_the_document_currency() -> None:
    ubl = _replace(
        _ubl(),
        "<cac:PaymentMeans>",
        "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode></cac:PaymentMeans><cac:PaymentMeans>",
    )
    ubl = _replace(
        ubl,
        "<cac:TaxTotal>",
        "<cac:TaxTotal><cbc:TaxAmount currencyID='USD'>99.00</cbc:TaxAmount></cac:TaxTotal><cac:TaxTotal>",
    )
    ubl = _replace(
        ubl,
        "<cac:PartyTaxScheme>",
        "<cac:PartyTaxScheme><cbc:CompanyID>048/123/45678</cbc:CompanyID>"
        "<cac:TaxScheme><cbc:ID>FC</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme><cac:PartyTaxScheme>",
    )
    data = _read(ubl)
    assert (data.payment.means_code, data.payment.iban) == ("30", "")
    assert data.totals.vat_total == Decimal("237.50")
    assert data.seller.vat_id == "DE136695976"

    cii = _replace(
        _cii(),
        '<ram:TaxTotalAmount currencyID="EUR">76.00</ram:TaxTotalAmount>',
        '<ram:TaxTotalAmount currencyID="USD">80.00</ram:TaxTotalAmount>'
        "<ram:TaxTotalAmount>76.00</ram:TaxTotalAmount>",
    )
    cii = _replace(
        cii,
        "<ram:DefinedTradeContact>",
        "<ram:DefinedTradeContact><ram:DepartmentName>Buchhaltung</ram:DepartmentName></ram:DefinedTradeContact>"
        "<ram:DefinedTradeContact>",
    )
    cii = _replace(
        cii,
        "</ram:IncludedNote>",
        "</ram:IncludedNote><ram:IncludedNote><ram:SubjectCode>AAI</ram:SubjectCode></ram:IncludedNote>",
    )
    data = _read(cii)
    assert data.totals.vat_total == Decimal("76.00")
    assert (data.seller.contact_name, data.seller.phone) == ("", "")
    assert data.notes == ("Wartung der Heizungsanlage in der Grundschule.", "")


@pytest.mark.parametrize("syntax", ["ubl", "cii"])
def test_missing_parts_are_left_empty(syntax: str) -> None:
    if syntax == "ubl":
        xml = re.sub(
            r"<cac:AccountingCustomerParty>.*?</cac:AccountingCustomerParty>", "", _ubl(), flags=re.S
        )
        xml = re.sub(r"<cac:LegalMonetaryTotal>.*?</cac:LegalMonetaryTotal>", "", xml, flags=re.S)
    else:
        xml = re.sub(r"<ram:BuyerTradeParty>.*?</ram:BuyerTradeParty>", "", _cii(), flags=re.S)
        xml = re.sub(
            r"<ram:SpecifiedTradeSettlementHeaderMonetarySummation>.*?"
            r"</ram:SpecifiedTradeSettlementHeaderMonetarySummation>",
            "",
            xml,
            flags=re.S,
        )
    data = _read(xml)
    assert data.buyer == Party()
    assert data.totals.amount_due is None and data.totals.gross_total is None


def test_text_is_read_with_its_blanks_folded() -> None:
    xml = _replace(_ubl(), "<cbc:ID>RE-2026-0042</cbc:ID>", "<cbc:ID>\n   RE-2026-0042 \n  </cbc:ID>")
    xml = _replace(
        xml,
        "<cbc:DocumentCurrencyCode>",
        "<cbc:Note>Zweite   Notiz <b>fett</b></cbc:Note><cbc:DocumentCurrencyCode>",
    )
    data = _read(xml)
    assert data.number == "RE-2026-0042"
    assert data.notes[-1] == "Zweite Notiz fett"
