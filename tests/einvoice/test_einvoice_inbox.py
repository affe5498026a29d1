"""An accepted invoice in the finance office's inbox: readable key data, PDF, original XML."""

from __future__ import annotations

from flask.testing import FlaskClient
from staff.builders import log_in, make_user

from app.einvoice.services import accept_invoice
from app.staff.models import Role

from .builders import LEITWEG, invoice_commune, sample


def test_clerk_of_the_finance_office_reads_the_invoice_like_any_submission(client: FlaskClient) -> None:
    setting = invoice_commune()
    outcome = accept_invoice(setting.commune, sample("xrechnung-ubl.xml"), "RE-2026-0042.xml")
    clerk = make_user(Role.CLERK, commune=setting.commune, offices=[setting.office])
    log_in(client, clerk)
    slug, reference = setting.commune.slug, outcome.submission.reference
    inbox = client.get(f"/staff/{slug}/inbox").get_data(as_text=True)
    assert reference in inbox
    page = client.get(f"/staff/{slug}/submissions/{reference}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    expected = (
        "RE-2026-0042", LEITWEG, "DE02120300000000202051", "1.487,50", "Wandanstrich", "RE-2026-0042.xml"
    )
    for value in expected:
        assert value in text
    pdf = client.get(f"/staff/{slug}/submissions/{reference}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    attachment_id = outcome.submission.attachments[0].id
    original = client.get(f"/staff/{slug}/submissions/{reference}/attachments/{attachment_id}")
    assert original.data == sample("xrechnung-ubl.xml")
