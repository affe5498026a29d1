"""The key data of an electronic invoice, read from UBL or CII, for the readable view.

:func:`extract_invoice_data` reads what a clerk needs to check and pay an invoice: the
parties, number and dates, the buyer reference (Leitweg-ID), the lines, the VAT breakdown,
the totals and the payment instructions. It reads an invoice the validator has accepted;
anything missing is left empty rather than guessed. The original XML stays the legal record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from app.einvoice.validation import Syntax, parse_invoice_xml, syntax_of

UBL_NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
CII_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


@dataclass(frozen=True)
class Party:
    """Seller (BG-4) or buyer (BG-7)."""

    name: str = ""
    legal_name: str = ""
    address_lines: tuple[str, ...] = ()
    vat_id: str = ""
    contact_name: str = ""
    phone: str = ""
    email: str = ""
    electronic_address: str = ""


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice line (BG-25)."""

    id: str
    name: str
    quantity: Decimal | None
    unit: str
    unit_price: Decimal | None
    net_amount: Decimal | None
    vat_category: str
    vat_rate: Decimal | None


@dataclass(frozen=True)
class VatBreakdown:
    """One VAT category of the invoice (BG-23)."""

    category: str
    rate: Decimal | None
    taxable_amount: Decimal | None
    tax_amount: Decimal | None
    exemption_reason: str = ""


@dataclass(frozen=True)
class Totals:
    """The document totals (BG-22)."""

    line_total: Decimal | None = None
    allowance_total: Decimal | None = None
    charge_total: Decimal | None = None
    net_total: Decimal | None = None
    vat_total: Decimal | None = None
    gross_total: Decimal | None = None
    prepaid: Decimal | None = None
    amount_due: Decimal | None = None


@dataclass(frozen=True)
class Payment:
    """Payment instructions (BG-16) and terms (BT-20)."""

    means_code: str = ""
    iban: str = ""
    bic: str = ""
    account_name: str = ""
    reference: str = ""
    terms: str = ""


@dataclass(frozen=True)
class InvoiceData:
    """What the readable view of an invoice shows; :meth:`to_json` is what the submission keeps."""

    syntax: Syntax
    specification: str
    number: str
    type_code: str
    issue_date: date | None
    due_date: date | None
    delivery_date: date | None
    currency: str
    buyer_reference: str
    order_reference: str
    seller: Party
    buyer: Party
    lines: tuple[InvoiceLine, ...] = ()
    vat: tuple[VatBreakdown, ...] = ()
    totals: Totals = field(default_factory=Totals)
    payment: Payment = field(default_factory=Payment)
    notes: tuple[str, ...] = ()

    @property
    def is_credit_note(self) -> bool:
        return self.syntax is Syntax.UBL_CREDIT_NOTE or self.type_code in {"381", "396", "532"}

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values: amounts and quantities as decimal strings, dates as ISO dates."""
        return _plain(asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _text(element: etree._Element | None, path: str, ns: dict[str, str]) -> str:
    if element is None:
        return ""
    found = element.find(path, ns)
    if found is None:
        return ""
    return " ".join("".join(found.itertext()).split())


def _attribute(element: etree._Element, path: str, name: str, ns: dict[str, str]) -> str:
    found = element.find(path, ns)
    return found.get(name, "") if found is not None else ""


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


def _date(text: str) -> date | None:
    text = text.strip()
    try:
        if len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _join(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def extract_invoice_data(xml: bytes) -> InvoiceData:
    """The key data of an invoice in UBL (Invoice or CreditNote) or CII; ValueError for others."""
    root = parse_invoice_xml(xml).getroot()
    syntax = syntax_of(root)
    if syntax is None:
        raise ValueError("not an EN 16931 invoice")
    if syntax is Syntax.CII:
        return _from_cii(root)
    return _from_ubl(root, syntax)


# --------------------------------------------------------------------------- UBL


def _ubl_party(party: etree._Element | None) -> Party:
    ns = UBL_NS
    if party is None:
        return Party()
    address = party.find("cac:PostalAddress", ns)
    lines = [
        _text(address, "cbc:StreetName", ns),
        _text(address, "cbc:AdditionalStreetName", ns),
        _text(address, "cac:AddressLine/cbc:Line", ns),
        _join(_text(address, "cbc:PostalZone", ns), _text(address, "cbc:CityName", ns)),
        _text(address, "cac:Country/cbc:IdentificationCode", ns),
    ]
    legal_name = _text(party, "cac:PartyLegalEntity/cbc:RegistrationName", ns)
    # BT-31 is the tax scheme "VAT"; another scheme there is the tax number (BT-32).
    vat_ids = party.xpath(
        "cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID/text()", namespaces=ns
    )
    return Party(
        name=_text(party, "cac:PartyName/cbc:Name", ns) or legal_name,
        legal_name=legal_name,
        address_lines=tuple(line for line in lines if line),
        vat_id=" ".join(vat_ids[0].split()) if vat_ids else "",
        contact_name=_text(party, "cac:Contact/cbc:Name", ns),
        phone=_text(party, "cac:Contact/cbc:Telephone", ns),
        email=_text(party, "cac:Contact/cbc:ElectronicMail", ns),
        electronic_address=_text(party, "cbc:EndpointID", ns),
    )


def _from_ubl(root: etree._Element, syntax: Syntax) -> InvoiceData:
    ns = UBL_NS
    credit = syntax is Syntax.UBL_CREDIT_NOTE
    currency = _text(root, "cbc:DocumentCurrencyCode", ns)
    quantity_path = "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"
    lines = tuple(
        InvoiceLine(
            id=_text(line, "cbc:ID", ns),
            name=_text(line, "cac:Item/cbc:Name", ns),
            quantity=_decimal(_text(line, quantity_path, ns)),
            unit=_attribute(line, quantity_path, "unitCode", ns),
            unit_price=_decimal(_text(line, "cac:Price/cbc:PriceAmount", ns)),
            net_amount=_decimal(_text(line, "cbc:LineExtensionAmount", ns)),
            vat_category=_text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID", ns),
            vat_rate=_decimal(_text(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", ns)),
        )
        for line in root.iterfind("cac:CreditNoteLine" if credit else "cac:InvoiceLine", ns)
    )
    vat = tuple(
        VatBreakdown(
            category=_text(subtotal, "cac:TaxCategory/cbc:ID", ns),
            rate=_decimal(_text(subtotal, "cac:TaxCategory/cbc:Percent", ns)),
            taxable_amount=_decimal(_text(subtotal, "cbc:TaxableAmount", ns)),
            tax_amount=_decimal(_text(subtotal, "cbc:TaxAmount", ns)),
            exemption_reason=_text(subtotal, "cac:TaxCategory/cbc:TaxExemptionReason", ns),
        )
        for subtotal in root.iterfind("cac:TaxTotal/cac:TaxSubtotal", ns)
    )
    vat_total = next(
        (
            _decimal(_text(total, "cbc:TaxAmount", ns))
            for total in root.iterfind("cac:TaxTotal", ns)
            if total.find("cbc:TaxAmount", ns) is not None
            and total.find("cbc:TaxAmount", ns).get("currencyID") == currency
        ),
        None,
    )
    monetary = root.find("cac:LegalMonetaryTotal", ns)
    means = root.find("cac:PaymentMeans", ns)
    return InvoiceData(
        syntax=syntax,
        specification=_text(root, "cbc:CustomizationID", ns),
        number=_text(root, "cbc:ID", ns),
        type_code=_text(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode", ns),
        issue_date=_date(_text(root, "cbc:IssueDate", ns)),
        due_date=_date(_text(root, "cbc:DueDate", ns) or _text(means, "cbc:PaymentDueDate", ns)),
        delivery_date=_date(_text(root, "cac:Delivery/cbc:ActualDeliveryDate", ns)),
        currency=currency,
        buyer_reference=_text(root, "cbc:BuyerReference", ns),
        order_reference=_text(root, "cac:OrderReference/cbc:ID", ns),
        seller=_ubl_party(root.find("cac:AccountingSupplierParty/cac:Party", ns)),
        buyer=_ubl_party(root.find("cac:AccountingCustomerParty/cac:Party", ns)),
        lines=lines,
        vat=vat,
        totals=Totals(
            line_total=_decimal(_text(monetary, "cbc:LineExtensionAmount", ns)),
            allowance_total=_decimal(_text(monetary, "cbc:AllowanceTotalAmount", ns)),
            charge_total=_decimal(_text(monetary, "cbc:ChargeTotalAmount", ns)),
            net_total=_decimal(_text(monetary, "cbc:TaxExclusiveAmount", ns)),
            vat_total=vat_total,
            gross_total=_decimal(_text(monetary, "cbc:TaxInclusiveAmount", ns)),
            prepaid=_decimal(_text(monetary, "cbc:PrepaidAmount", ns)),
            amount_due=_decimal(_text(monetary, "cbc:PayableAmount", ns)),
        ),
        payment=Payment(
            means_code=_text(means, "cbc:PaymentMeansCode", ns),
            iban=_text(means, "cac:PayeeFinancialAccount/cbc:ID", ns),
            bic=_text(means, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID", ns),
            account_name=_text(means, "cac:PayeeFinancialAccount/cbc:Name", ns),
            reference=_text(means, "cbc:PaymentID", ns),
            terms=_text(root, "cac:PaymentTerms/cbc:Note", ns),
        ),
        notes=tuple(_text(note, ".", ns) for note in root.iterfind("cbc:Note", ns)),
    )


# --------------------------------------------------------------------------- CII


def _cii_party(party: etree._Element | None) -> Party:
    ns = CII_NS
    if party is None:
        return Party()
    address = party.find("ram:PostalTradeAddress", ns)
    contact = party.find("ram:DefinedTradeContact", ns)
    lines = [
        _text(address, "ram:LineOne", ns),
        _text(address, "ram:LineTwo", ns),
        _text(address, "ram:LineThree", ns),
        _join(_text(address, "ram:PostcodeCode", ns), _text(address, "ram:CityName", ns)),
        _text(address, "ram:CountryID", ns),
    ]
    return Party(
        name=_text(party, "ram:Name", ns),
        legal_name=_text(party, "ram:SpecifiedLegalOrganization/ram:TradingBusinessName", ns),
        address_lines=tuple(line for line in lines if line),
        vat_id=_text(party, "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']", ns),
        contact_name=_text(contact, "ram:PersonName", ns),
        phone=_text(contact, "ram:TelephoneUniversalCommunication/ram:CompleteNumber", ns),
        email=_text(contact, "ram:EmailURIUniversalCommunication/ram:URIID", ns),
        electronic_address=_text(party, "ram:URIUniversalCommunication/ram:URIID", ns),
    )


def _find(element: etree._Element | None, path: str) -> etree._Element | None:
    return element.find(path, CII_NS) if element is not None else None


def _from_cii(root: etree._Element) -> InvoiceData:
    ns = CII_NS
    document = root.find("rsm:ExchangedDocument", ns)
    trade = root.find("rsm:SupplyChainTradeTransaction", ns)
    agreement = _find(trade, "ram:ApplicableHeaderTradeAgreement")
    settlement = _find(trade, "ram:ApplicableHeaderTradeSettlement")
    currency = _text(settlement, "ram:InvoiceCurrencyCode", ns)
    line_tax = "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax"
    line_agreement = "ram:SpecifiedLineTradeAgreement"
    summation = _find(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    means = _find(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    lines = tuple(
        InvoiceLine(
            id=_text(item, "ram:AssociatedDocumentLineDocument/ram:LineID", ns),
            name=_text(item, "ram:SpecifiedTradeProduct/ram:Name", ns),
            quantity=_decimal(_text(item, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", ns)),
            unit=_attribute(item, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", "unitCode", ns),
            unit_price=_decimal(
                _text(item, f"{line_agreement}/ram:NetPriceProductTradePrice/ram:ChargeAmount", ns)
            ),
            net_amount=_decimal(
                _text(
                    item,
                    "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation"
                    "/ram:LineTotalAmount",
                    ns,
                )
            ),
            vat_category=_text(item, f"{line_tax}/ram:CategoryCode", ns),
            vat_rate=_decimal(_text(item, f"{line_tax}/ram:RateApplicablePercent", ns)),
        )
        for item in (trade.iterfind("ram:IncludedSupplyChainTradeLineItem", ns) if trade is not None else ())
    )
    vat = tuple(
        VatBreakdown(
            category=_text(tax, "ram:CategoryCode", ns),
            rate=_decimal(_text(tax, "ram:RateApplicablePercent", ns)),
            taxable_amount=_decimal(_text(tax, "ram:BasisAmount", ns)),
            tax_amount=_decimal(_text(tax, "ram:CalculatedAmount", ns)),
            exemption_reason=_text(tax, "ram:ExemptionReason", ns),
        )
        for tax in (settlement.iterfind("ram:ApplicableTradeTax", ns) if settlement is not None else ())
    )
    vat_total = next(
        (
            _decimal(" ".join(total.text.split()) if total.text else "")
            for total in (summation.iterfind("ram:TaxTotalAmount", ns) if summation is not None else ())
            if total.get("currencyID") in (None, currency)
        ),
        None,
    )
    delivery_path = (
        "ram:ApplicableHeaderTradeDelivery/ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/"
        "udt:DateTimeString"
    )
    return InvoiceData(
        syntax=Syntax.CII,
        specification=_text(
            root, "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", ns
        ),
        number=_text(document, "ram:ID", ns),
        type_code=_text(document, "ram:TypeCode", ns),
        issue_date=_date(_text(document, "ram:IssueDateTime/udt:DateTimeString", ns)),
        due_date=_date(
            _text(settlement, "ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString", ns)
        ),
        delivery_date=_date(_text(trade, delivery_path, ns)),
        currency=currency,
        buyer_reference=_text(agreement, "ram:BuyerReference", ns),
        order_reference=_text(agreement, "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID", ns),
        seller=_cii_party(_find(agreement, "ram:SellerTradeParty")),
        buyer=_cii_party(_find(agreement, "ram:BuyerTradeParty")),
        lines=lines,
        vat=vat,
        totals=Totals(
            line_total=_decimal(_text(summation, "ram:LineTotalAmount", ns)),
            allowance_total=_decimal(_text(summation, "ram:AllowanceTotalAmount", ns)),
            charge_total=_decimal(_text(summation, "ram:ChargeTotalAmount", ns)),
            net_total=_decimal(_text(summation, "ram:TaxBasisTotalAmount", ns)),
            vat_total=vat_total,
            gross_total=_decimal(_text(summation, "ram:GrandTotalAmount", ns)),
            prepaid=_decimal(_text(summation, "ram:TotalPrepaidAmount", ns)),
            amount_due=_decimal(_text(summation, "ram:DuePayableAmount", ns)),
        ),
        payment=Payment(
            means_code=_text(means, "ram:TypeCode", ns),
            iban=_text(means, "ram:PayeePartyCreditorFinancialAccount/ram:IBANID", ns),
            bic=_text(means, "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID", ns),
            account_name=_text(means, "ram:PayeePartyCreditorFinancialAccount/ram:AccountName", ns),
            reference=_text(settlement, "ram:PaymentReference", ns),
            terms=_text(settlement, "ram:SpecifiedTradePaymentTerms/ram:Description", ns),
        ),
        notes=tuple(_text(note, "ram:Content", ns) for note in document.iterfind("ram:IncludedNote", ns))
        if document is not None
        else (),
    )
