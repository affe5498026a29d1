"""Webhook deliveries: the signed payload, failing and missing receivers, refused URLs."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from flask import Flask

from app.delivery.models import Delivery, DeliveryState
from app.delivery.services import retry_delivery
from app.delivery.worker import process_due
from app.extensions import db
from app.timeutil import utcnow
from delivery.builders import FAKE_PDF, Channels, submit
from delivery.conftest import PUBLIC_BASE_URL, WEBHOOK_SECRET
from delivery.servers import HttpRecorder, free_port


def _reload(delivery: Delivery) -> Delivery:
    db.session.expire_all()
    fresh = db.session.get(Delivery, delivery.id)
    assert fresh is not None
    return fresh


def _hook(url: str) -> Channels:
    return Channels(deliver_by_email=False, webhook_url=url, webhook_secret=WEBHOOK_SECRET)


def test_webhook_posts_metadata_signed_with_hmac_sha512(
    delivery_settings: Flask, webhook_receiver: HttpRecorder
) -> None:
    submission, [delivery] = submit(
        _hook(webhook_receiver.url + "/eingang?von=portal"),
        attachments=[("Impfpass.pdf", "application/pdf", b"%PDF-1.4 impfpass")],
    )

    [outcome] = process_due()

    assert outcome.state is DeliveryState.DELIVERED
    [request] = webhook_receiver.wait_for(1)
    assert request.method == "POST"
    assert request.path == "/eingang?von=portal"
    assert request.headers["content-type"].startswith("application/json")
    timestamp = request.headers["callback-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(
        WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + request.body, hashlib.sha512
    ).hexdigest()
    assert hmac.compare_digest(request.headers["callback-authentication"], expected)
    assert request.headers["idempotency-key"] == f"{submission.reference}.{delivery.id}"

    payload = request.json()
    assert payload["type"] == "submission.created"
    assert payload["delivery_id"] == delivery.id
    data = payload["submission"]
    assert data["reference"] == submission.reference
    assert data["service"] == {"slug": "hundesteuer", "title": "Anmeldung zur Hundesteuer"}
    assert data["commune"]["name"] == "Werneuchen"
    assert data["office"]["name"] == "Ordnungsamt"
    assert data["status"] == "received"
    assert data["submitted_at"] == "2026-07-01T10:30:00+00:00"
    assert data["pdf_sha256"] == hashlib.sha256(FAKE_PDF).hexdigest()
    staff_view = f"{PUBLIC_BASE_URL}/staff/{submission.commune.slug}/submissions/{submission.reference}"
    links = data["links"]
    assert links["staff_view"] == staff_view
    assert links["pdf"] == staff_view + "/pdf"
    assert links["data"] == staff_view + "/data.json"
    [attachment] = links["attachments"]
    assert attachment["filename"] == "Impfpass.pdf"
    assert attachment["sha256"] == hashlib.sha256(b"%PDF-1.4 impfpass").hexdigest()
    assert attachment["url"].startswith(staff_view + "/attachments/")
    # Metadata and links only: the answers themselves are not posted.
    assert "Zażółć" not in request.body.decode()


def test_receiver_answering_500_twice_then_200_gets_it_exactly_once(
    delivery_settings: Flask, webhook_receiver: HttpRecorder
) -> None:
    _, [delivery] = submit(_hook(webhook_receiver.url))
    webhook_receiver.fail_next(2, status=500)
    now = utcnow()

    states = []
    for _ in range(5):
        states += [o.state for o in process_due(now=now)]
        now += timedelta(hours=1)

    assert states == [DeliveryState.PENDING, DeliveryState.PENDING, DeliveryState.DELIVERED]
    answered = [r.answered for r in webhook_receiver.requests]
    assert answered == [500, 500, 200]
    stored = _reload(delivery)
    assert stored.attempts == 3
    assert stored.state is DeliveryState.DELIVERED
    assert stored.last_error is None


def test_redirects_are_not_followed_and_count_as_failure(
    delivery_settings: Flask, webhook_receiver: HttpRecorder
) -> None:
    _, [delivery] = submit(_hook(webhook_receiver.url))
    webhook_receiver.answer_with([302])

    [outcome] = process_due()

    assert outcome.state is DeliveryState.PENDING
    assert [r.answered for r in webhook_receiver.requests] == [302]
    assert _reload(delivery).last_error == "Webhook antwortete mit HTTP 302."


def test_receiver_down_fails_after_max_attempts_then_staff_retry_delivers(
    delivery_settings: Flask, webhook_receiver: HttpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(delivery_settings.config, "DELIVERY_MAX_ATTEMPTS", 3)
    _, [delivery] = submit(_hook(webhook_receiver.url))
    webhook_receiver.stop()
    now = utcnow()

    states = []
    for _ in range(6):
        states += [o.state for o in process_due(now=now)]
        now += timedelta(hours=1)

    assert states == [DeliveryState.PENDING, DeliveryState.PENDING, DeliveryState.FAILED]
    failed = _reload(delivery)
    assert failed.state is DeliveryState.FAILED
    assert failed.attempts == 3
    assert failed.next_attempt_at is None
    assert failed.last_error and failed.last_error.startswith("Webhook nicht erreichbar")

    webhook_receiver.start()
    retried = retry_delivery(delivery.id, "Clara Sachbearbeiterin", submission_id=delivery.submission_id)
    db.session.commit()
    assert retried.state is DeliveryState.PENDING
    assert retried.attempts == 0
    assert retried.retried_by == "Clara Sachbearbeiterin"

    [outcome] = process_due()
    assert outcome.state is DeliveryState.DELIVERED
    assert len(webhook_receiver.wait_for(1)) == 1


def test_backoff_doubles_from_one_minute_and_is_capped_at_an_hour(
    delivery_settings: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(delivery_settings.config, "DELIVERY_MAX_ATTEMPTS", 10)
    _, [delivery] = submit(_hook(f"http://127.0.0.1:{free_port()}/"))
    now = utcnow()
    waits = []
    for _ in range(9):
        process_due(now=now)
        due = _reload(delivery).next_attempt_at
        assert due is not None
        waits.append(int((due - now).total_seconds() // 60))
        now = due

    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    process_due(now=now)
    assert _reload(delivery).state is DeliveryState.FAILED


@pytest.mark.parametrize("url", ["ftp://example.org/hook", "file:///etc/passwd", "javascript:alert(1)"])
def test_non_http_webhook_urls_are_refused_without_retrying(delivery_settings: Flask, url: str) -> None:
    _, [delivery] = submit(_hook(url))

    [outcome] = process_due()

    assert outcome.state is DeliveryState.FAILED
    assert "keine HTTP(S)-URL" in (_reload(delivery).last_error or "")


def test_production_refuses_plain_http_webhooks(
    delivery_settings: Flask, webhook_receiver: HttpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(delivery_settings.config, "PORTAL_ENV", "production")
    _, [delivery] = submit(_hook(webhook_receiver.url))

    [outcome] = process_due()

    assert outcome.state is DeliveryState.FAILED
    assert "nur HTTPS" in (_reload(delivery).last_error or "")
    assert webhook_receiver.requests == []


def test_webhook_without_a_signing_secret_is_not_sent(
    delivery_settings: Flask, webhook_receiver: HttpRecorder
) -> None:
    _, [delivery] = submit(Channels(deliver_by_email=False, webhook_url=webhook_receiver.url))

    [outcome] = process_due()

    assert outcome.state is DeliveryState.FAILED
    assert webhook_receiver.requests == []
    assert "Schlüssel" in (_reload(delivery).last_error or "")

