"""The key data of an electronic invoice, read from UBL or CII, for the readable view.

:func:`extract_invoice_data` reads what a clerk needs to check and pay an invoice: the
parties, number and dates, the buyer reference (Leitweg-ID), the lines, the VAT breakdown,
the totals and the payment instructions. It reads an invoice the validator has accepted;
anything missing is left empty rather than guessed. The original XML stays the legal record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, get_args, get_type_hints

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


def extract_invoice_data(xml: bytes) -> InvoiceData:
    """The key data of an invoice in UBL (Invoice or CreditNote) or CII; ValueError for others."""
    root = parse_invoice_xml(xml).getroot()
    syntax = syntax_of(root)
    if syntax is None:
        raise ValueError("not an EN 16931 invoice")
    return _extract(root, syntax, _PATHS[syntax])


# --------------------------------------------------------------------------- where each syntax keeps it

#: An XPath 1.0 expression, or alternatives of which the first that yields a value counts.
_Path = str | tuple[str, ...]


@dataclass(frozen=True)
class _Each:
    """Repeated elements (``each``, from the root) and where each keeps its fields."""

    each: str
    fields: dict[str, _Path]


@dataclass(frozen=True)
class _SyntaxPaths:
    """Where one syntax keeps what :class:`InvoiceData` shows.

    Every path is XPath 1.0; of a path that finds several nodes the first counts, as
    :func:`_value` reads it. Field names are those of the dataclasses above.
    """

    ns: dict[str, str]
    document: dict[str, _Path]  # InvoiceData's own fields, from the root
    seller: str  # the party element, from the root
    buyer: str
    party: dict[str, _Path]  # Party's fields, from the party element
    address: tuple[str, ...]  # the lines of the party's address, from the party element
    lines: _Each
    vat: _Each
    totals: dict[str, _Path]  # from the root
    payment: dict[str, _Path]  # from the root
    notes: tuple[str, str]  # each note, from the root; its text, from the note


def _ubl_paths(credit: bool) -> _SyntaxPaths:
    quantity = "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"
    means = "cac:PaymentMeans[1]"
    total = "cac:LegalMonetaryTotal"
    address = "cac:PostalAddress"
    return _SyntaxPaths(
        ns=UBL_NS,
        document={
            "specification": "cbc:CustomizationID",
            "number": "cbc:ID",
            "type_code": "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode",
            "issue_date": "cbc:IssueDate",
            "due_date": ("cbc:DueDate", f"{means}/cbc:PaymentDueDate"),
            "delivery_date": "cac:Delivery/cbc:ActualDeliveryDate",
            "currency": "cbc:DocumentCurrencyCode",
            "buyer_reference": "cbc:BuyerReference",
            "order_reference": "cac:OrderReference/cbc:ID",
        },
        seller="cac:AccountingSupplierParty/cac:Party",
        buyer="cac:AccountingCustomerParty/cac:Party",
        party={
            "name": ("cac:PartyName/cbc:Name", "cac:PartyLegalEntity/cbc:RegistrationName"),
            "legal_name": "cac:PartyLegalEntity/cbc:RegistrationName",
            # BT-31 is the tax scheme "VAT"; another scheme there is the tax number (BT-32).
            "vat_id": "cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID/text()",
            "contact_name": "cac:Contact/cbc:Name",
            "phone": "cac:Contact/cbc:Telephone",
            "email": "cac:Contact/cbc:ElectronicMail",
            "electronic_address": "cbc:EndpointID",
        },
        address=(
            f"{address}/cbc:StreetName",
            f"{address}/cbc:AdditionalStreetName",
            f"{address}/cac:AddressLine/cbc:Line",
            f"normalize-space(concat({address}/cbc:PostalZone, ' ', {address}/cbc:CityName))",
            f"{address}/cac:Country/cbc:IdentificationCode",
        ),
        lines=_Each(
            "cac:CreditNoteLine" if credit else "cac:InvoiceLine",
            {
                "id": "cbc:ID",
                "name": "cac:Item/cbc:Name",
                "quantity": quantity,
                "unit": f"{quantity}/@unitCode",
                "unit_price": "cac:Price/cbc:PriceAmount",
                "net_amount": "cbc:LineExtensionAmount",
                "vat_category": "cac:Item/cac:ClassifiedTaxCategory/cbc:ID",
                "vat_rate": "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent",
            },
        ),
        vat=_Each(
            "cac:TaxTotal/cac:TaxSubtotal",
            {
                "category": "cac:TaxCategory/cbc:ID",
                "rate": "cac:TaxCategory/cbc:Percent",
                "taxable_amount": "cbc:TaxableAmount",
                "tax_amount": "cbc:TaxAmount",
                "exemption_reason": "cac:TaxCategory/cbc:TaxExemptionReason",
            },
        ),
        totals={
            "line_total": f"{total}/cbc:LineExtensionAmount",
            "allowance_total": f"{total}/cbc:AllowanceTotalAmount",
            "charge_total": f"{total}/cbc:ChargeTotalAmount",
            "net_total": f"{total}/cbc:TaxExclusiveAmount",
            # The tax total in the document's currency (another may follow in the tax currency).
            "vat_total": "cac:TaxTotal/cbc:TaxAmount"
            "[@currencyID = normalize-space(/*/cbc:DocumentCurrencyCode)]",
            "gross_total": f"{total}/cbc:TaxInclusiveAmount",
            "prepaid": f"{total}/cbc:PrepaidAmount",
            "amount_due": f"{total}/cbc:PayableAmount",
        },
        payment={
            "means_code": f"{means}/cbc:PaymentMeansCode",
            "iban": f"{means}/cac:PayeeFinancialAccount/cbc:ID",
            "bic": f"{means}/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID",
            "account_name": f"{means}/cac:PayeeFinancialAccount/cbc:Name",
            "reference": f"{means}/cbc:PaymentID",
            "terms": "cac:PaymentTerms/cbc:Note",
        },
        notes=("cbc:Note", "."),
    )


def _cii_paths() -> _SyntaxPaths:
    document = "rsm:ExchangedDocument"
    trade = "rsm:SupplyChainTradeTransaction"
    agreement = f"{trade}/ram:ApplicableHeaderTradeAgreement"
    settlement = f"{trade}/ram:ApplicableHeaderTradeSettlement"
    summation = f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    means = f"{settlement}/ram:SpecifiedTradeSettlementPaymentMeans[1]"
    contact = "ram:DefinedTradeContact[1]"
    address = "ram:PostalTradeAddress"
    line_settlement = "ram:SpecifiedLineTradeSettlement"
    line_tax = f"{line_settlement}/ram:ApplicableTradeTax"
    quantity = "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity"
    return _SyntaxPaths(
        ns=CII_NS,
        document={
            "specification": "rsm:ExchangedDocumentContext"
            "/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
            "number": f"{document}/ram:ID",
            "type_code": f"{document}/ram:TypeCode",
            "issue_date": f"{document}/ram:IssueDateTime/udt:DateTimeString",
            "due_date": f"{settlement}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString",
            "delivery_date": f"{trade}/ram:ApplicableHeaderTradeDelivery/ram:ActualDeliverySupplyChainEvent"
            "/ram:OccurrenceDateTime/udt:DateTimeString",
            "currency": f"{settlement}/ram:InvoiceCurrencyCode",
            "buyer_reference": f"{agreement}/ram:BuyerReference",
            "order_reference": f"{agreement}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID",
        },
        seller=f"{agreement}/ram:SellerTradeParty",
        buyer=f"{agreement}/ram:BuyerTradeParty",
        party={
            "name": "ram:Name",
            "legal_name": "ram:SpecifiedLegalOrganization/ram:TradingBusinessName",
            "vat_id": "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']",
            "contact_name": f"{contact}/ram:PersonName",
            "phone": f"{contact}/ram:TelephoneUniversalCommunication/ram:CompleteNumber",
            "email": f"{contact}/ram:EmailURIUniversalCommunication/ram:URIID",
            "electronic_address": "ram:URIUniversalCommunication/ram:URIID",
        },
        address=(
            f"{address}/ram:LineOne",
            f"{address}/ram:LineTwo",
            f"{address}/ram:LineThree",
            f"normalize-space(concat({address}/ram:PostcodeCode, ' ', {address}/ram:CityName))",
            f"{address}/ram:CountryID",
        ),
        lines=_Each(
            f"{trade}/ram:IncludedSupplyChainTradeLineItem",
            {
                "id": "ram:AssociatedDocumentLineDocument/ram:LineID",
                "name": "ram:SpecifiedTradeProduct/ram:Name",
                "quantity": quantity,
                "unit": f"{quantity}/@unitCode",
                "unit_price": "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice"
                "/ram:ChargeAmount",
                "net_amount": f"{line_settlement}/ram:SpecifiedTradeSettlementLineMonetarySummation"
                "/ram:LineTotalAmount",
                "vat_category": f"{line_tax}/ram:CategoryCode",
                "vat_rate": f"{line_tax}/ram:RateApplicablePercent",
            },
        ),
        vat=_Each(
            f"{settlement}/ram:ApplicableTradeTax",
            {
                "category": "ram:CategoryCode",
                "rate": "ram:RateApplicablePercent",
                "taxable_amount": "ram:BasisAmount",
                "tax_amount": "ram:CalculatedAmount",
                "exemption_reason": "ram:ExemptionReason",
            },
        ),
        totals={
            "line_total": f"{summation}/ram:LineTotalAmount",
            "allowance_total": f"{summation}/ram:AllowanceTotalAmount",
            "charge_total": f"{summation}/ram:ChargeTotalAmount",
            "net_total": f"{summation}/ram:TaxBasisTotalAmount",
            # The tax total in the invoice currency (another may follow in the tax currency).
            "vat_total": f"{summation}/ram:TaxTotalAmount"
            f"[not(@currencyID) or @currencyID = normalize-space(/*/{settlement}/ram:InvoiceCurrencyCode)]",
            "gross_total": f"{summation}/ram:GrandTotalAmount",
            "prepaid": f"{summation}/ram:TotalPrepaidAmount",
            "amount_due": f"{summation}/ram:DuePayableAmount",
        },
        payment={
            "means_code": f"{means}/ram:TypeCode",
            "iban": f"{means}/ram:PayeePartyCreditorFinancialAccount/ram:IBANID",
            "bic": f"{means}/ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID",
            "account_name": f"{means}/ram:PayeePartyCreditorFinancialAccount/ram:AccountName",
            "reference": f"{settlement}/ram:PaymentReference",
            "terms": f"{settlement}/ram:SpecifiedTradePaymentTerms/ram:Description",
        },
        notes=(f"{document}[1]/ram:IncludedNote", "ram:Content"),
    )


_PATHS = {
    Syntax.UBL_INVOICE: _ubl_paths(credit=False),
    Syntax.UBL_CREDIT_NOTE: _ubl_paths(credit=True),
    Syntax.CII: _cii_paths(),
}


# --------------------------------------------------------------------------- reading by the paths


def _xpath(element: etree._Element, path: str, ns: dict[str, str]) -> Any:
    return _compiled(path, tuple(ns.items()))(element)


@cache
def _compiled(path: str, ns: tuple[tuple[str, str], ...]) -> etree.XPath:
    return etree.XPath(path, namespaces=dict(ns))


def _value(element: etree._Element, path: _Path, ns: dict[str, str]) -> str:
    """The text at ``path`` (its first node; of alternatives, the first with text), blanks folded."""
    for candidate in (path,) if isinstance(path, str) else path:
        found = _xpath(element, candidate, ns)
        if isinstance(found, list):
            found = found[0] if found else ""
        if getattr(found, "is_attribute", False):
            text = str(found)  # an attribute's value as it stands
        else:
            text = "".join(found.itertext()) if isinstance(found, etree._Element) else str(found)
            text = " ".join(text.split())
        if text:
            return text
    return ""


@cache
def _converters(record: type) -> dict[str, Callable[[str], Any]]:
    """How to turn text into each field of a dataclass: by the field's type."""
    converters: dict[str, Callable[[str], Any]] = {}
    for name, hint in get_type_hints(record).items():
        if Decimal in get_args(hint):
            converters[name] = _decimal
        elif date in get_args(hint):
            converters[name] = _date
        else:
            converters[name] = str
    return converters


def _fields(
    record: type, element: etree._Element, paths: dict[str, _Path], ns: dict[str, str]
) -> dict[str, Any]:
    """The fields of ``record`` that ``paths`` find from ``element``, as their types want them."""
    converters = _converters(record)
    return {name: converters[name](_value(element, path, ns)) for name, path in paths.items()}


def _all(root: etree._Element, each: _Each, record: type, ns: dict[str, str]) -> tuple[Any, ...]:
    items = _xpath(root, each.each, ns)
    return tuple(record(**_fields(record, item, each.fields, ns)) for item in items)


def _party(root: etree._Element, path: str, paths: _SyntaxPaths) -> Party:
    found = _xpath(root, path, paths.ns)
    if not found:
        return Party()
    party = found[0]
    lines = (_value(party, line, paths.ns) for line in paths.address)
    return Party(
        address_lines=tuple(line for line in lines if line), **_fields(Party, party, paths.party, paths.ns)
    )


def _extract(root: etree._Element, syntax: Syntax, paths: _SyntaxPaths) -> InvoiceData:
    ns = paths.ns
    each_note, note_text = paths.notes
    return InvoiceData(
        syntax=syntax,
        **_fields(InvoiceData, root, paths.document, ns),
        seller=_party(root, paths.seller, paths),
        buyer=_party(root, paths.buyer, paths),
        lines=_all(root, paths.lines, InvoiceLine, ns),
        vat=_all(root, paths.vat, VatBreakdown, ns),
        totals=Totals(**_fields(Totals, root, paths.totals, ns)),
        payment=Payment(**_fields(Payment, root, paths.payment, ns)),
        notes=tuple(_value(note, note_text, ns) for note in _xpath(root, each_note, ns)),
    )
