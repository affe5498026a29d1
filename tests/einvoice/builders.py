"""Builders for the e-invoice tests: a commune that takes e-invoices, and a Factur-X PDF."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from factories import make_commune, make_office
from facturx import generate_from_binary
from reportlab.pdfgen.canvas import Canvas

from app.catalogue.models import CommuneService
from app.extensions import db
from app.tenancy.models import Commune, Office

SAMPLES = Path(__file__).parent / "samples"
LEITWEG = "12069656-0001-98"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@dataclass(frozen=True)
class InvoiceSetting:
    commune: Commune
    office: Office
    choice: CommuneService


def invoice_commune(
    *, leitweg_ids: list[str] | None = None, webhook_url: str | None = None
) -> InvoiceSetting:
    """A commune whose finance office (kaemmerei) receives e-invoices by e-mail (and webhook)."""
    commune = make_commune(leitweg_ids=[LEITWEG] if leitweg_ids is None else leitweg_ids)
    make_office(commune, kind="ordnungsamt")
    office = make_office(commune, name="Kämmerei", kind="kaemmerei", email="kaemmerei@example.org")
    choice = CommuneService(
        commune_id=commune.id,
        service_slug="e-rechnung",
        office_id=office.id,
        enabled=True,
        deliver_by_email=True,
        webhook_url=webhook_url,
    )
    db.session.add(choice)
    db.session.commit()
    return InvoiceSetting(commune, office, choice)


def plain_pdf(text: str = "Rechnung 2026-1187") -> bytes:
    """A one-page PDF drawn with reportlab (the visible part of a hybrid invoice)."""
    buffer = BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def facturx_pdf(xml: bytes) -> bytes:
    """A ZUGFeRD / Factur-X PDF carrying ``xml`` as its factur-x.xml."""
    return generate_from_binary(plain_pdf(), xml, check_xsd=False)
