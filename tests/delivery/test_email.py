"""E-mail to the office: content, waiting for the PDF, SMTP outages."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from factories import make_commune, make_office
from flask import Flask

from app.delivery.models import Delivery, DeliveryState
from app.delivery.worker import process_due
from app.extensions import db
from app.storage import blob_store
from app.timeutil import utcnow
from delivery.builders import FAKE_PDF, Channels, submit
from delivery.conftest import PUBLIC_BASE_URL
from delivery.servers import SmtpRecorder


def _reload(delivery: Delivery) -> Delivery:
    db.session.expire_all()
    fresh = db.session.get(Delivery, delivery.id)
    assert fresh is not None
    return fresh


def test_email_carries_pdf_data_json_and_every_attachment(
    delivery_settings: Flask, smtp_server: SmtpRecorder
) -> None:
    submission, [delivery] = submit(
        Channels(deliver_by_email=True),
        attachments=[
            ("Impfpass.pdf", "application/pdf", b"%PDF-1.4 impfpass"),
            ("Foto Hund.png", "image/png", b"\x89PNG\r\n\x1a\nfoto"),
        ],
    )

    [outcome] = process_due()

    assert outcome.state is DeliveryState.DELIVERED
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ("ordnungsamt@werneuchen.example",)
    message = mail.message
    assert message["Subject"] == (
        f"[{submission.reference}] Anmeldung zur Hundesteuer – Werneuchen"
    )
    assert message["Message-ID"] == f"<{submission.reference}.{delivery.id}@kommunalportal.example>"
    assert message["Reply-To"] == "erika@example.org"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert submission.reference in text
    assert "01.07.2026, 12:30 Uhr" in text  # 10:30 UTC in Berlin summer time
    assert "Ordnungsamt" in text
    assert f"{PUBLIC_BASE_URL}/staff/{submission.commune.slug}/submissions/{submission.reference}" in text
    files = mail.attachments()
    assert files[f"{submission.reference}.pdf"] == FAKE_PDF
    assert json.loads(files["data.json"]) == {"name": "Zażółć Gęślą", "hunde": 2}
    assert files["Impfpass.pdf"] == b"%PDF-1.4 impfpass"
    assert files["Foto Hund.png"] == b"\x89PNG\r\n\x1a\nfoto"

    stored = _reload(delivery)
    assert stored.state is DeliveryState.DELIVERED
    assert stored.attempts == 1
    assert stored.delivered_at is not None
    assert stored.next_attempt_at is None
    assert stored.claimed_until is None


def test_email_goes_to_the_service_address_when_one_is_set(
    delivery_settings: Flask, smtp_server: SmtpRecorder
) -> None:
    submit(Channels(deliver_by_email=True, email_to="hundesteuer@werneuchen.example"))

    process_due()

    assert smtp_server.wait_for(1)[0].rcpt_tos == ("hundesteuer@werneuchen.example",)


def test_delivery_waits_for_the_pdf_without_spending_attempts(
    delivery_settings: Flask, smtp_server: SmtpRecorder
) -> None:
    submission, [delivery] = submit(Channels(deliver_by_email=True), pdf=None)

    assert process_due() == []
    assert _reload(delivery).attempts == 0
    assert smtp_server.messages == []

    submission.pdf_key = blob_store().put(FAKE_PDF).key
    db.session.commit()

    [outcome] = process_due()
    assert outcome.state is DeliveryState.DELIVERED
    assert len(smtp_server.wait_for(1)) == 1


def test_smtp_down_retries_with_backoff_and_delivers_once_when_back(
    delivery_settings: Flask, smtp_server: SmtpRecorder
) -> None:
    _, [delivery] = submit(Channels(deliver_by_email=True))
    smtp_server.stop()
    start = utcnow()

    [first] = process_due(now=start)
    assert first.state is DeliveryState.PENDING
    stored = _reload(delivery)
    assert stored.attempts == 1
    assert stored.last_error and "SMTP" in stored.last_error
    assert stored.next_attempt_at == start + timedelta(minutes=1)

    # Not due before the backoff has passed.
    assert process_due(now=start + timedelta(seconds=30)) == []

    [second] = process_due(now=start + timedelta(minutes=1))
    assert second.state is DeliveryState.PENDING
    assert _reload(delivery).next_attempt_at == start + timedelta(minutes=1 + 2)

    smtp_server.start()
    [third] = process_due(now=start + timedelta(minutes=3))
    assert third.state is DeliveryState.DELIVERED
    assert process_due(now=start + timedelta(hours=5)) == []
    assert len(smtp_server.wait_for(1)) == 1
    stored = _reload(delivery)
    assert stored.attempts == 3
    assert stored.state is DeliveryState.DELIVERED


def test_delivery_without_an_address_fails_at_once_with_a_reason(
    delivery_settings: Flask, smtp_server: SmtpRecorder
) -> None:
    commune = make_commune()
    office = make_office(commune, email="")
    _, [delivery] = submit(Channels(deliver_by_email=True), commune=commune, office=office)

    [outcome] = process_due()

    assert outcome.state is DeliveryState.FAILED
    stored = _reload(delivery)
    assert stored.attempts == 1
    assert stored.last_error == "Keine gültige E-Mail-Adresse für die Zustellung hinterlegt."
    assert smtp_server.messages == []


def test_with_mail_disabled_the_message_is_logged_not_sent(
    delivery_settings: Flask,
    smtp_server: SmtpRecorder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setitem(delivery_settings.config, "MAIL_ENABLED", False)
    submission, [delivery] = submit(Channels(deliver_by_email=True))

    with caplog.at_level(logging.INFO, logger="app.delivery.mail"):
        [outcome] = process_due()

    assert outcome.state is DeliveryState.DELIVERED
    assert smtp_server.messages == []
    assert any("MAIL_ENABLED is off" in r.getMessage() and submission.reference in r.getMessage()
               for r in caplog.records)
    assert "MAIL_ENABLED" in (_reload(delivery).last_error or "")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_login_is_used_when_a_user_name_is_set(
    delivery_settings: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = SmtpRecorder(credentials=("portal", "richtig")).start()
    try:
        for key, value in {
            "MAIL_PORT": server.port,
            "MAIL_USERNAME": "portal",
            "MAIL_PASSWORD": "falsch",
        }.items():
            monkeypatch.setitem(delivery_settings.config, key, value)
        _, [delivery] = submit(Channels(deliver_by_email=True))
        now = utcnow()

        [refused] = process_due(now=now)
        assert refused.state is DeliveryState.PENDING
        assert "535" in (_reload(delivery).last_error or "")

        monkeypatch.setitem(delivery_settings.config, "MAIL_PASSWORD", "richtig")
        [accepted] = process_due(now=now + timedelta(minutes=1))
        assert accepted.state is DeliveryState.DELIVERED
        assert len(server.wait_for(1)) == 1
    finally:
        server.stop()


def test_with_starttls_required_a_server_without_tls_gets_nothing(
    delivery_settings: Flask, smtp_server: SmtpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(delivery_settings.config, "MAIL_USE_TLS", True)
    _, [delivery] = submit(Channels(deliver_by_email=True))

    [outcome] = process_due()

    assert outcome.state is DeliveryState.PENDING
    assert "STARTTLS" in (_reload(delivery).last_error or "")
    assert smtp_server.messages == []
