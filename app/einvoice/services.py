"""Accepting an electronic invoice for a commune: validate, route, store, deliver.

:func:`accept_invoice` is what the upload page calls. An upload is XML (XRechnung as UBL or
CII) or a ZUGFeRD / Factur-X PDF, whose embedded XML is checked. The XML is validated as
KoSIT's validator does (:mod:`app.einvoice.validation`) with the commune's Leitweg-IDs as the
only accepted buyer references; an invalid invoice raises :class:`InvoiceRefused` carrying the
report, and nothing is stored.

A valid invoice becomes a :class:`~app.submissions.models.Submission` of the service
``e-rechnung`` in ONE transaction, like a submitted form: the next reference number, the
upload stored byte for byte as an attachment (for a PDF also the embedded XML, as extracted),
the extracted key data as the answers, the readable invoice view rendered as PDF/A-3 with the
original XML embedded (:mod:`app.documents.invoice`), and the outbox rows of the office's
channels. After the commit the deliveries are attempted and the uploader, if they gave an
e-mail address, gets the usual confirmation.

The answers are kept against a *reading form*: the service's definition with a form of
read-only text fields (:data:`READING_FORM`), so the staff inbox, the exports and the API show
an invoice's key data as they show any submission's answers.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, format_decimal
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app import documents
from app.catalogue.services import OfferedService, get_offered_service
from app.delivery import services as delivery
from app.documents.invoice import InvoiceDocument, InvoiceLineRow, TotalRow, VatRow, render_invoice_pdf
from app.einvoice.parsing import InvoiceData, Party, extract_invoice_data
from app.einvoice.validation import (
    Finding,
    Severity,
    Stage,
    Syntax,
    ValidationReport,
    validate_invoice,
)
from app.einvoice.zugferd import NoEmbeddedInvoice, extract_invoice_xml, is_pdf
from app.extensions import db
from app.formspec import FieldType, ServiceSpec
from app.storage import blob_store
from app.submissions import services as submissions
from app.submissions.models import Attachment, EventKind, Submission, SubmissionEvent, SubmissionStatus
from app.submissions.pdf import letterhead_of
from app.tenancy.models import Commune
from app.timeutil import to_berlin, utcnow

log = logging.getLogger(__name__)

#: The catalogue service whose page offers the upload and whose office receives invoices.
SERVICE_SLUG = "e-rechnung"
#: The largest upload accepted. E-invoices are small; attachments embedded in the XML
#: (BG-24) or a hybrid PDF rarely take more than a few megabytes.
MAX_INVOICE_BYTES = 20 * 1024 * 1024
#: Attachment field names of the stored files.
UPLOAD_FIELD = "rechnung"
EMBEDDED_XML_FIELD = "rechnung_xml"

SYNTAX_LABELS = {
    Syntax.UBL_INVOICE: "UBL 2.1 Invoice",
    Syntax.UBL_CREDIT_NOTE: "UBL 2.1 CreditNote",
    Syntax.CII: "UN/CEFACT CII D16B",
}
#: UNTDID 1001 document types that occur in invoices to public bodies.
TYPE_LABELS = {
    "326": "Teilrechnung",
    "380": "Rechnung",
    "381": "Gutschrift",
    "384": "Rechnungskorrektur",
    "389": "Gutschrift im Gutschriftsverfahren",
    "875": "Abschlagsrechnung (Bauleistungen)",
    "876": "Teilschlussrechnung (Bauleistungen)",
    "877": "Schlussrechnung (Bauleistungen)",
}
#: UNTDID 4461 payment means that occur in invoices to public bodies.
PAYMENT_MEANS_LABELS = {
    "10": "Barzahlung",
    "30": "Überweisung",
    "48": "Kartenzahlung",
    "49": "Lastschrift",
    "57": "Dauerauftrag",
    "58": "SEPA-Überweisung",
    "59": "SEPA-Lastschrift",
    "ZZZ": "Sonstige",
}


#: Steps of the reading form printed as key data before the lines, and after the totals; the
#: lines, VAT and totals get tables of their own, the warnings a list.
KEY_DATA_STEPS = ("rechnung", "rechnungssteller", "rechnungsempfaenger")
CLOSING_STEPS = ("zahlung",)
#: The consent the uploader gives on the upload page (the same wording as every online form's).
CONSENT_LABEL = "Ich habe die Datenschutzhinweise zur Kenntnis genommen."


def _text_field(name: str, label: str, *, textarea: bool = False) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name, "type": "textarea" if textarea else "text", "label": label}
    field["required"] = False
    if textarea:
        field["max_length"] = 20000
    return field


def _step(name: str, title: str, fields: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "title": title, "fieldsets": [{"name": name, "fields": list(fields)}]}


#: The read-only form an invoice's key data is kept against (see the module docstring).
READING_FORM: dict[str, Any] = {
    "steps": [
        _step("rechnung", "Rechnung", [
            _text_field("rechnungsnummer", "Rechnungsnummer"),
            _text_field("rechnungsart", "Art"),
            _text_field("rechnungsdatum", "Rechnungsdatum"),
            _text_field("faellig_am", "Fällig am"),
            _text_field("leistungsdatum", "Liefer- oder Leistungsdatum"),
            _text_field("leitweg_id", "Leitweg-ID (Käuferreferenz, BT-10)"),
            _text_field("bestellnummer", "Bestellnummer"),
            _text_field("format", "Format"),
            _text_field("bemerkungen", "Bemerkungen", textarea=True),
        ]),
        _step("rechnungssteller", "Rechnungssteller", [
            _text_field("verkaeufer_name", "Name"),
            _text_field("verkaeufer_anschrift", "Anschrift", textarea=True),
            _text_field("verkaeufer_ust_id", "USt-IdNr."),
            _text_field("verkaeufer_kontakt", "Ansprechperson"),
            _text_field("verkaeufer_telefon", "Telefon"),
            _text_field("verkaeufer_email", "E-Mail-Adresse"),
        ]),
        _step("rechnungsempfaenger", "Rechnungsempfänger", [
            _text_field("kaeufer_name", "Name"),
            _text_field("kaeufer_anschrift", "Anschrift", textarea=True),
        ]),
        _step("positionen", "Positionen", [_text_field("positionen", "Positionen", textarea=True)]),
        _step("betraege", "Beträge", [
            _text_field("summe_positionen", "Summe der Positionen (netto)"),
            _text_field("nachlaesse", "Nachlässe"),
            _text_field("zuschlaege", "Zuschläge"),
            _text_field("netto", "Gesamtbetrag netto"),
            _text_field("umsatzsteuer_aufschluesselung", "Umsatzsteuer nach Kategorien", textarea=True),
            _text_field("umsatzsteuer", "Umsatzsteuer gesamt"),
            _text_field("brutto", "Gesamtbetrag brutto"),
            _text_field("vorauszahlung", "Bereits gezahlt"),
            _text_field("zahlbetrag", "Zahlbetrag"),
        ]),
        _step("zahlung", "Zahlung", [
            _text_field("zahlungsart", "Zahlungsart"),
            _text_field("iban", "IBAN"),
            _text_field("bic", "BIC"),
            _text_field("kontoinhaber", "Kontoinhaber"),
            _text_field("verwendungszweck", "Verwendungszweck"),
            _text_field("zahlungsbedingungen", "Zahlungsbedingungen", textarea=True),
        ]),
        {
            "name": "pruefung",
            "title": "Prüfung",
            "fieldsets": [
                {
                    "name": "pruefung",
                    "fields": [_text_field("pruefhinweise", "Hinweise der Prüfung", textarea=True)],
                },
                {
                    "name": "datenschutz",
                    "fields": [{"name": "datenschutz", "type": "consent", "label": CONSENT_LABEL}],
                },
            ],
        },
    ]
}


class InvoiceServiceUnavailable(Exception):
    """The commune does not take e-invoices here (service switched off or no receiving office)."""


class InvoiceRefused(Exception):
    """The upload is not an acceptable e-invoice; ``report`` says why, rule by rule."""

    def __init__(self, report: ValidationReport) -> None:
        super().__init__("; ".join(f"{f.rule}: {f.text}" for f in report.errors[:5]))
        self.report = report


@dataclass(frozen=True)
class CheckedInvoice:
    """An upload after its checks: the invoice XML (as uploaded or extracted) and the report."""

    xml: bytes
    xml_filename: str
    report: ValidationReport
    from_pdf: bool


@dataclass(frozen=True)
class InvoiceOutcome:
    """What an accepted upload tells the web layer (the tracking token only exists here)."""

    submission: Submission
    token: str
    report: ValidationReport
    data: InvoiceData

    @property
    def submit_outcome(self) -> submissions.SubmitOutcome:
        """The same outcome as a submitted form, for the shared confirmation page."""
        return submissions.SubmitOutcome(self.submission, self.token, True)


def invoice_service(commune: Commune) -> OfferedService | None:
    """The e-invoice service as this commune offers it, if an active office receives invoices."""
    offered = get_offered_service(commune, SERVICE_SLUG, online_only=False)
    if offered is None or offered.office is None or not offered.office.active:
        return None
    return offered


def _refusal(text: str, stage: Stage = Stage.XML) -> InvoiceRefused:
    return InvoiceRefused(ValidationReport(None, "", (Finding(Severity.ERROR, stage, "UPLOAD", text),)))


def check_invoice(data: bytes, filename: str, *, leitweg_ids: Iterable[str] | None) -> CheckedInvoice:
    """Validate an upload (XML, or a PDF with embedded XML) without storing anything."""
    if not data:
        raise _refusal(_("Die Datei ist leer."))
    if len(data) > MAX_INVOICE_BYTES:
        raise _refusal(
            _(
                "Die Datei ist zu groß (höchstens %(limit)s MB). Elektronische Rechnungen sind in "
                "der Regel deutlich kleiner.",
                limit=MAX_INVOICE_BYTES // (1024 * 1024),
            )
        )
    from_pdf = is_pdf(data)
    xml_filename = submissions.clean_filename(filename, "rechnung.xml")
    xml = data
    if from_pdf:
        try:
            embedded_name, xml = extract_invoice_xml(data)
        except NoEmbeddedInvoice as exc:
            raise _refusal(str(exc)) from None
        xml_filename = submissions.clean_filename(embedded_name, "factur-x.xml")
    ids = list(leitweg_ids) if leitweg_ids is not None else None
    report = validate_invoice(xml, leitweg_ids=ids)
    if not report.valid:
        raise InvoiceRefused(report)
    return CheckedInvoice(xml, xml_filename, report, from_pdf)


def accept_invoice(
    commune: Commune, data: bytes, filename: str, *, email: str = "", locale: str = "de"
) -> InvoiceOutcome:
    """Validate an uploaded invoice and store it as a submission (see the module docstring).

    Raises :class:`InvoiceServiceUnavailable` when the commune takes no e-invoices here and
    :class:`InvoiceRefused` (with the validation report) when the invoice is not acceptable.
    """
    offered = invoice_service(commune)
    if offered is None:
        raise InvoiceServiceUnavailable(commune.slug)
    checked = check_invoice(data, filename, leitweg_ids=commune.leitweg_ids or [])
    invoice = extract_invoice_data(checked.xml)
    token = secrets.token_urlsafe(submissions.TOKEN_BYTES)
    session = db.session
    try:
        submissions.take_write_lock(session)
        submission = _store(session, commune, offered, checked, invoice, data, filename, email, locale, token)
        delivery_rows = delivery.enqueue_deliveries(submission, offered.choice, offered.office)
        confirmation = submissions.enqueue_confirmation(session, submission, token)
        if confirmation is not None:
            delivery_rows.append(confirmation)
        session.flush()
        delivery_ids = [row.id for row in delivery_rows]
        session.commit()
    except BaseException:
        session.rollback()
        raise
    log.info("accepted e-invoice %s as %s (%s)", invoice.number, submission.reference,
             checked.report.scenario)
    _after_commit(submission, delivery_ids)
    return InvoiceOutcome(submission, token, checked.report, invoice)


def reading_spec(offered: OfferedService) -> ServiceSpec:
    """The service's definition with the reading form, as kept with every invoice submission."""
    source = {**offered.spec.source, "online": True, "form": READING_FORM}
    return ServiceSpec.from_source(source)


def _store(
    session: Session,
    commune: Commune,
    offered: OfferedService,
    checked: CheckedInvoice,
    invoice: InvoiceData,
    upload: bytes,
    filename: str,
    email: str,
    locale: str,
    token: str,
) -> Submission:
    assert offered.office is not None
    spec = reading_spec(offered)
    submissions.keep_definition(session, spec)
    store = blob_store()
    stored_upload = store.put(upload, session=session)
    attachments = [_attachment(stored_upload, UPLOAD_FIELD, 0, filename, checked, upload)]
    if checked.from_pdf:
        stored_xml = store.put(checked.xml, session=session)
        attachments.append(
            Attachment(
                field_name=EMBEDDED_XML_FIELD,
                position=1,
                filename=checked.xml_filename,
                media_type="application/xml",
                size=stored_xml.size,
                sha256=stored_xml.sha256,
                storage_key=stored_xml.key,
            )
        )
    now = utcnow()
    year = to_berlin(now).year
    number = submissions.next_reference_number(session, commune.id, year)
    submission = Submission(
        commune_id=commune.id,
        office_id=offered.office.id,
        service_slug=spec.slug,
        service_title=spec.title[:200],
        form_version=spec.version,
        reference=submissions.format_reference(commune, year, number),
        reference_year=year,
        reference_number=number,
        tracking_token_hash=submissions.hash_token(token),
        draft_key=None,
        status=SubmissionStatus.RECEIVED,
        locale=locale,
        answers=invoice_answers(invoice, checked.report),
        submitter_name=(invoice.seller.legal_name or invoice.seller.name)[:200],
        submitter_email=email.strip()[:254],
        fee_total=None,
        submitted_at=now,
        updated_at=now,
    )
    submission.attachments = attachments
    submission.events = [
        SubmissionEvent(
            kind=EventKind.SUBMITTED,
            created_at=now,
            to_status=SubmissionStatus.RECEIVED,
            text=_("Elektronische Rechnung %(number)s geprüft: %(scenario)s, keine Fehler.",
                   number=invoice.number, scenario=checked.report.scenario),
        )
    ]
    submission.commune = commune
    submission.office = offered.office
    session.add(submission)
    session.flush()
    _render_pdf(session, submission, invoice, checked, spec)
    return submission


def _attachment(
    stored: Any, field: str, position: int, filename: str, checked: CheckedInvoice, upload: bytes
) -> Attachment:
    media_type = "application/pdf" if checked.from_pdf else "application/xml"
    fallback = "rechnung.pdf" if checked.from_pdf else "rechnung.xml"
    return Attachment(
        field_name=field,
        position=position,
        filename=submissions.clean_filename(filename, fallback),
        media_type=media_type,
        size=len(upload),
        sha256=stored.sha256,
        storage_key=stored.key,
    )


def _render_pdf(
    session: Session, submission: Submission, invoice: InvoiceData, checked: CheckedInvoice, spec: ServiceSpec
) -> None:
    """Render the readable view inside the transaction, so the invoice arrives with its PDF.

    A rendering failure must not lose the invoice: it is logged and recorded, and the worker's
    PDF step renders the submission later from the kept reading form.
    """
    try:
        pdf = render_invoice_pdf(invoice_document(submission, invoice, checked, spec))
        stored = blob_store().put(pdf, session=session)
    except Exception as exc:
        log.exception("readable view of e-invoice %s could not be rendered", submission.reference)
        submission.pdf_error = f"{type(exc).__name__}: {exc}"[:2000]
        return
    submission.pdf_key = stored.key
    submission.pdf_sha256 = stored.sha256
    submission.pdf_size = stored.size
    submission.pdf_rendered_at = submission.submitted_at
    submission.events.append(SubmissionEvent(kind=EventKind.PDF_RENDERED, created_at=submission.submitted_at))
    session.flush()


def _after_commit(submission: Submission, delivery_ids: list[int]) -> None:
    """The deliveries, the submitter's confirmation among them; none may undo the accepted invoice."""
    try:
        delivery.attempt_after_commit(delivery_ids)
    except Exception:
        db.session.rollback()
        log.exception("deliveries of %s not attempted now; the worker retries", submission.reference)


# --------------------------------------------------------------------------- presentation


def money(amount: Decimal | None, currency: str) -> str:
    """An amount in the invoice's currency, written the German way ("1.487,50 €")."""
    if amount is None:
        return ""
    return format_currency(amount, currency or "EUR", locale="de_DE")


def _number(value: Decimal | None) -> str:
    return format_decimal(value, format="#,##0.####", locale="de_DE") if value is not None else ""


def _date(value: Any) -> str:
    return value.strftime("%d.%m.%Y") if value is not None else ""


def _address(party: Party) -> str:
    return "\n".join(party.address_lines)


def format_label(invoice: InvoiceData) -> str:
    """"XRechnung 3.0 (UN/CEFACT CII D16B)" and the like."""
    specification = invoice.specification
    if "xrechnung" in specification:
        name = "XRechnung 3.0"
    elif specification.startswith("urn:cen.eu:en16931:2017"):
        name = "EN 16931"
    else:
        name = specification
    return f"{name} ({SYNTAX_LABELS[invoice.syntax]})"


def line_text(invoice: InvoiceData) -> str:
    """The lines as plain text, one per line: "1. Wandanstrich — 50 MTK × 20,00 € = 1.000,00 €"."""
    rows = []
    for line in invoice.lines:
        quantity = " ".join(part for part in (_number(line.quantity), line.unit) if part)
        price = money(line.unit_price, invoice.currency)
        amount = money(line.net_amount, invoice.currency)
        rate = f", USt. {_number(line.vat_rate)} %" if line.vat_rate is not None else ""
        rows.append(f"{line.id}. {line.name} — {quantity} × {price} = {amount}{rate}")
    return "\n".join(rows)


def vat_text(invoice: InvoiceData) -> str:
    """The VAT breakdown as plain text, one category per line."""
    rows = []
    for row in invoice.vat:
        rate = f" {_number(row.rate)} %" if row.rate is not None else ""
        reason = f" ({row.exemption_reason})" if row.exemption_reason else ""
        rows.append(
            f"{row.category}{rate}: {money(row.tax_amount, invoice.currency)} auf "
            f"{money(row.taxable_amount, invoice.currency)}{reason}"
        )
    return "\n".join(rows)


def findings_text(findings: Iterable[Finding]) -> str:
    """Warnings and hints as plain text, one per line, with rule id and place."""
    return "\n".join(f"{f.rule}: {f.text}" + (f" ({f.location})" if f.location else "") for f in findings)


def invoice_answers(invoice: InvoiceData, report: ValidationReport) -> dict[str, Any]:
    """The answers kept with the submission: display texts for the reading form, and the data.

    ``rechnungsdaten`` holds the extracted data as plain JSON (amounts as decimal strings) for
    the API and exports; the other keys are the reading form's fields.
    """
    totals = invoice.totals
    currency = invoice.currency
    payment = invoice.payment
    return {
        "rechnungsnummer": invoice.number,
        "rechnungsart": TYPE_LABELS.get(invoice.type_code, invoice.type_code),
        "rechnungsdatum": _date(invoice.issue_date),
        "faellig_am": _date(invoice.due_date),
        "leistungsdatum": _date(invoice.delivery_date),
        "leitweg_id": invoice.buyer_reference,
        "bestellnummer": invoice.order_reference,
        "format": format_label(invoice),
        "bemerkungen": "\n".join(invoice.notes),
        "verkaeufer_name": invoice.seller.legal_name or invoice.seller.name,
        "verkaeufer_anschrift": _address(invoice.seller),
        "verkaeufer_ust_id": invoice.seller.vat_id,
        "verkaeufer_kontakt": invoice.seller.contact_name,
        "verkaeufer_telefon": invoice.seller.phone,
        "verkaeufer_email": invoice.seller.email,
        "kaeufer_name": invoice.buyer.legal_name or invoice.buyer.name,
        "kaeufer_anschrift": _address(invoice.buyer),
        "positionen": line_text(invoice),
        "summe_positionen": money(totals.line_total, currency),
        "nachlaesse": money(totals.allowance_total, currency),
        "zuschlaege": money(totals.charge_total, currency),
        "netto": money(totals.net_total, currency),
        "umsatzsteuer_aufschluesselung": vat_text(invoice),
        "umsatzsteuer": money(totals.vat_total, currency),
        "brutto": money(totals.gross_total, currency),
        "vorauszahlung": money(totals.prepaid, currency),
        "zahlbetrag": money(totals.amount_due, currency),
        "zahlungsart": PAYMENT_MEANS_LABELS.get(payment.means_code, payment.means_code),
        "iban": payment.iban,
        "bic": payment.bic,
        "kontoinhaber": payment.account_name,
        "verwendungszweck": payment.reference,
        "zahlungsbedingungen": payment.terms,
        "pruefhinweise": findings_text(report.warnings),
        "datenschutz": True,
        "rechnungsdaten": invoice.to_json(),
    }


def invoice_document(
    submission: Submission, invoice: InvoiceData, checked: CheckedInvoice, spec: ServiceSpec
) -> InvoiceDocument:
    """The plain input of the readable invoice PDF (German labels, as the office reads it).

    ``spec`` is the reading form the answers are kept against; its key-data steps become the
    PDF's sections, while lines, VAT and totals get tables of their own.
    """
    answers = submission.answers
    sections: dict[str, documents.AnswerSection] = {}
    for step in spec.form.steps if spec.form is not None else ():
        rows = [
            documents.AnswerRow(field.label, str(answers.get(field.name) or ""))
            for fieldset in step.fieldsets
            for field in fieldset.fields
            if field.type in {FieldType.TEXT, FieldType.TEXTAREA}
        ]
        sections[step.name] = documents.AnswerSection(step.title, [documents.AnswerGroup(None, rows)])
    totals = invoice.totals
    total_rows = [
        TotalRow(label, amount, emphasised)
        for label, amount, emphasised in (
            ("Summe der Positionen (netto)", totals.line_total, False),
            ("Nachlässe", totals.allowance_total, False),
            ("Zuschläge", totals.charge_total, False),
            ("Gesamtbetrag netto", totals.net_total, False),
            ("Umsatzsteuer", totals.vat_total, False),
            ("Gesamtbetrag brutto", totals.gross_total, False),
            ("Bereits gezahlt", totals.prepaid, False),
            ("Zahlbetrag", totals.amount_due, True),
        )
        if amount is not None
    ]
    title = "Gutschrift" if invoice.is_credit_note else "Elektronische Rechnung"
    xml_filename = checked.xml_filename if checked.xml_filename.lower().endswith(".xml") else "rechnung.xml"
    return InvoiceDocument(
        letterhead=letterhead_of(submission.commune),
        title=f"{title} {invoice.number}",
        reference=submission.reference,
        received_at=submission.submitted_at,
        sections=[sections[name] for name in KEY_DATA_STEPS if name in sections],
        closing_sections=[sections[name] for name in CLOSING_STEPS if name in sections],
        lines=[
            InvoiceLineRow(line.id, line.name, line.quantity, line.unit, line.unit_price, line.net_amount,
                           line.vat_rate, line.vat_category)
            for line in invoice.lines
        ],
        vat=[VatRow(row.category, row.rate, row.taxable_amount, row.tax_amount, row.exemption_reason)
             for row in invoice.vat],
        totals=total_rows,
        currency=invoice.currency,
        xml=checked.xml,
        xml_filename=xml_filename,
        data_json=json.dumps(answers.get("rechnungsdaten", {}), ensure_ascii=False, indent=2).encode("utf-8"),
        office_name=submission.office.name,
        notices=[f"{f.rule}: {f.text}" for f in checked.report.warnings],
    )
