"""Deliveries and mails are bound to the submission's transaction; staff retry rules."""

from __future__ import annotations

import logging

import pytest
from factories import make_commune, make_office
from flask import Flask

from app.delivery import worker as worker_module
from app.delivery.mail import MailAttachment, compose_mail, send_after_commit, send_mail
from app.delivery.models import Delivery, DeliveryChannel, DeliveryState
from app.delivery.services import (
    DeliveryNotRetryable,
    attempt_after_commit,
    deliveries_for_submission,
    enqueue_deliveries,
    retry_delivery,
)
from app.delivery.worker import process_due
from app.extensions import db
from delivery.builders import Channels, make_submission, submit
from delivery.conftest import WEBHOOK_SECRET
from delivery.servers import HttpRecorder, SmtpRecorder


def _count_deliveries() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Delivery)) or 0


def test_enqueue_adds_one_row_per_configured_channel_without_committing(delivery_settings: Flask) -> None:
    commune = make_commune()
    office = make_office(commune, email="bauamt@example.org")
    submission = make_submission(commune, office, commit=False)

    deliveries = enqueue_deliveries(
        submission,
        Channels(deliver_by_email=True, webhook_url=" https://fachverfahren.example/hook ",
                 webhook_secret=WEBHOOK_SECRET),
        office,
    )

    assert [(d.channel, d.target) for d in deliveries] == [
        (DeliveryChannel.EMAIL, "bauamt@example.org"),
        (DeliveryChannel.WEBHOOK, "https://fachverfahren.example/hook"),
    ]
    assert all(d in db.session.new for d in deliveries)
    assert deliveries[1].signing_secret == WEBHOOK_SECRET
    db.session.commit()
    assert [d.state for d in deliveries_for_submission(submission.id)] == [DeliveryState.PENDING] * 2


def test_enqueue_without_channels_writes_nothing(delivery_settings: Flask) -> None:
    submission, deliveries = submit(Channels(deliver_by_email=False, webhook_url=None))

    assert deliveries == []
    assert deliveries_for_submission(submission.id) == []


def test_rolled_back_submission_leaves_no_rows_and_sends_nothing(
    delivery_settings: Flask, smtp_server: SmtpRecorder, webhook_receiver: HttpRecorder
) -> None:
    commune = make_commune()
    office = make_office(commune)
    submission = make_submission(commune, office, commit=False)
    channels = Channels(
        deliver_by_email=True, webhook_url=webhook_receiver.url, webhook_secret=WEBHOOK_SECRET
    )
    enqueue_deliveries(submission, channels, office)
    send_after_commit(db.session, compose_mail("erika@example.org", "Ihr Antrag", "Danke."))
    db.session.flush()

    db.session.rollback()
    attempt_after_commit([1, 2])
    process_due()

    assert _count_deliveries() == 0
    assert smtp_server.messages == []
    assert webhook_receiver.requests == []


def test_mail_registered_for_after_commit_is_sent_only_after_the_commit(
    delivery_settings: Flask, smtp_server: SmtpRecorder
) -> None:
    make_commune()  # some work in the same transaction
    send_after_commit(
        db.session,
        compose_mail(
            "erika@example.org",
            "Ihr Antrag ist eingegangen",
            "Guten Tag,\nvielen Dank.",
            [MailAttachment("antrag.pdf", b"%PDF-1.7", "application/pdf")],
        ),
    )
    assert smtp_server.messages == []

    db.session.commit()

    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ("erika@example.org",)
    assert mail.message["Subject"] == "Ihr Antrag ist eingegangen"
    assert mail.attachments() == {"antrag.pdf": b"%PDF-1.7"}
    db.session.commit()
    assert len(smtp_server.messages) == 1


def test_mail_after_commit_with_smtp_down_is_logged_not_raised(
    delivery_settings: Flask, smtp_server: SmtpRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server.stop()
    send_after_commit(db.session, compose_mail("erika@example.org", "Ihr Antrag", "Danke."))

    with caplog.at_level(logging.ERROR, logger="app.delivery.mail"):
        db.session.commit()

    assert any("could not send e-mail" in r.getMessage() for r in caplog.records)


def test_send_mail_reports_failure_instead_of_raising(
    delivery_settings: Flask, smtp_server: SmtpRecorder
) -> None:
    assert send_mail("erika@example.org", "Fortsetzen", "Ihr Link: …") is True
    smtp_server.stop()
    assert send_mail("erika@example.org", "Fortsetzen", "Ihr Link: …") is False
    assert len(smtp_server.messages) == 1


def test_attempt_after_commit_delivers_at_once(
    delivery_settings: Flask, smtp_server: SmtpRecorder, webhook_receiver: HttpRecorder
) -> None:
    _, deliveries = submit(
        Channels(deliver_by_email=True, webhook_url=webhook_receiver.url, webhook_secret=WEBHOOK_SECRET)
    )

    outcomes = attempt_after_commit([d.id for d in deliveries])

    assert [o.state for o in outcomes] == [DeliveryState.DELIVERED] * 2
    assert len(smtp_server.wait_for(1)) == 1
    assert len(webhook_receiver.wait_for(1)) == 1


def test_attempt_after_commit_leaves_deliveries_without_pdf_to_the_worker(
    delivery_settings: Flask, smtp_server: SmtpRecorder
) -> None:
    _, [delivery] = submit(Channels(deliver_by_email=True), pdf=None)

    assert attempt_after_commit([delivery.id]) == []

    db.session.expire_all()
    assert db.session.get(Delivery, delivery.id).attempts == 0  # type: ignore[union-attr]
    assert smtp_server.messages == []


def test_attempt_after_commit_never_raises(
    delivery_settings: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _, [delivery] = submit(Channels(deliver_by_email=True))

    def broken(**kwargs: object) -> list[tuple[int, str]]:
        raise RuntimeError("database went away")

    monkeypatch.setattr(worker_module, "claim_due", broken)
    with caplog.at_level(logging.ERROR, logger="app.delivery.worker"):
        assert attempt_after_commit([delivery.id]) == []
    assert "the worker retries them" in caplog.text


def test_attempt_after_commit_can_be_switched_off(
    delivery_settings: Flask, smtp_server: SmtpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(delivery_settings.config, "DELIVERY_ATTEMPT_AFTER_COMMIT", False)
    _, [delivery] = submit(Channels(deliver_by_email=True))

    assert attempt_after_commit([delivery.id]) == []
    assert smtp_server.messages == []


def test_retry_refuses_delivered_rows_and_rows_of_another_submission(
    delivery_settings: Flask, smtp_server: SmtpRecorder
) -> None:
    _, [delivered] = submit(Channels(deliver_by_email=True))
    other, _ = submit(Channels(deliver_by_email=True))
    process_due()

    with pytest.raises(DeliveryNotRetryable):
        retry_delivery(delivered.id, "Clara")
    _, [waiting] = submit(Channels(deliver_by_email=True), pdf=None)
    with pytest.raises(DeliveryNotRetryable):
        retry_delivery(waiting.id, "Clara", submission_id=other.id)
    with pytest.raises(DeliveryNotRetryable):
        retry_delivery(987654, "Clara")


def test_retry_refuses_a_row_a_worker_holds(delivery_settings: Flask) -> None:
    _, [delivery] = submit(Channels(deliver_by_email=True))
    assert worker_module.claim_due(worker="busy-worker")

    with pytest.raises(DeliveryNotRetryable):
        retry_delivery(delivery.id, "Clara", submission_id=delivery.submission_id)
