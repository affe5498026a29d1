"""The citizen's confirmation e-mail travels through the outbox: written in the submit's
transaction, sent right after the commit or later by the worker, exactly once, and its
plain tracking token is never stored in clear and is erased once the mail is delivered."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from delivery.servers import SmtpRecorder, free_port
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select
from submission_builders import Setting, make_draft, offer_service, serving_service, write_test_form

from app.delivery.models import Delivery, DeliveryChannel, DeliveryState
from app.delivery.worker import process_due
from app.extensions import db
from app.staff.audit import Origin
from app.staff.inbox.retention import anonymise
from app.storage import blob_store
from app.submissions.models import Submission
from app.submissions.services import SubmitOutcome, submit_draft
from app.timeutil import utcnow

PUBLIC_BASE_URL = "https://portal.example"
CITIZEN = "juergen@example.org"


@pytest.fixture
def setting(app: Flask, tmp_path: Path) -> Iterator[Setting]:
    with serving_service(app, write_test_form(tmp_path / "forms")) as service:
        yield offer_service(service)


@pytest.fixture
def smtp_server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    """A real SMTP server on 127.0.0.1 and mail switched on, but pointed at a port nobody
    listens on: the mail server is down until a test calls :func:`_smtp_up`."""
    server = SmtpRecorder().start()
    settings = {
        "MAIL_ENABLED": True,
        "MAIL_SERVER": server.host,
        "MAIL_PORT": free_port(),
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": "",
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "DELIVERY_ATTEMPT_AFTER_COMMIT": True,
        "DELIVERY_TIMEOUT_SECONDS": 3,
        "DELIVERY_AFTER_COMMIT_TIMEOUT_SECONDS": 3,
    }
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    yield server
    server.stop()


def _smtp_up(app: Flask, server: SmtpRecorder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)


def _citizen_row(submission_id: int) -> Delivery:
    db.session.expire_all()
    return db.session.scalars(
        select(Delivery).where(
            Delivery.submission_id == submission_id, Delivery.channel == DeliveryChannel.CITIZEN_EMAIL
        )
    ).one()


def _stored_row_text(delivery_id: int) -> str:
    """Every column of the outbox row as the database holds it."""
    row = db.session.execute(select(Delivery.__table__).where(Delivery.__table__.c.id == delivery_id)).one()
    return " ".join(str(value) for value in row)


def _status_link(setting: Setting, outcome: SubmitOutcome) -> str:
    reference = outcome.submission.reference
    return f"{PUBLIC_BASE_URL}/{setting.commune.slug}/status/{reference}?token={outcome.token}"


def _later() -> object:
    return utcnow() + timedelta(days=1)


def test_a_confirmation_sent_right_after_the_commit_leaves_no_token_in_the_outbox(
    setting: Setting, app: Flask, smtp_server: SmtpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _smtp_up(app, smtp_server, monkeypatch)

    outcome = submit_draft(make_draft(setting, locale="pl")[0], locale="pl")

    [mail] = [m for m in smtp_server.wait_for(2) if m.rcpt_tos == (CITIZEN,)]
    assert _status_link(setting, outcome) in mail.message.get_body(preferencelist=("plain",)).get_content()
    row = _citizen_row(outcome.submission.id)
    assert (row.state, row.target, row.attempts, row.payload) == (DeliveryState.DELIVERED, CITIZEN, 1, None)
    assert outcome.token not in _stored_row_text(row.id)


def test_smtp_down_at_submit_keeps_the_confirmation_encrypted_until_the_worker_sends_it_once(
    setting: Setting, app: Flask, smtp_server: SmtpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mail used to be lost when SMTP failed right after the commit."""
    outcome = submit_draft(make_draft(setting, locale="pl")[0], locale="pl")

    submission = db.session.get(Submission, outcome.submission.id)
    assert submission is not None and submission.pdf_key is not None
    row = _citizen_row(submission.id)
    assert (row.state, row.attempts) == (DeliveryState.PENDING, 1)
    assert row.last_error
    # Waiting, the message is kept, but only encrypted.
    assert outcome.token is not None and outcome.token in (row.payload or "")
    assert row.payload_stored is not None and row.payload_stored.startswith("gAAAAA")
    assert outcome.token not in _stored_row_text(row.id)

    _smtp_up(app, smtp_server, monkeypatch)
    process_due(now=_later())
    process_due(now=_later() + timedelta(days=1))

    mails = smtp_server.wait_for(2)
    [citizen] = [m for m in mails if m.rcpt_tos == (CITIZEN,)]
    assert len(mails) == 2, "the office's e-mail and the confirmation, once each"
    assert citizen.attachments() == {f"{submission.reference}.pdf": blob_store().read(submission.pdf_key)}
    body = citizen.message.get_body(preferencelist=("plain",)).get_content()
    assert _status_link(setting, outcome) in body
    # Composed at submit time in the citizen's language, not in the worker's German.
    assert submission.reference in citizen.message["Subject"]
    assert "Ihr Antrag" not in citizen.message["Subject"]
    row = _citizen_row(submission.id)
    assert (row.state, row.attempts, row.payload_stored) == (DeliveryState.DELIVERED, 2, None)
    assert outcome.token not in _stored_row_text(row.id)


def test_racing_workers_send_each_waiting_confirmation_once(
    setting: Setting, app: Flask, smtp_server: SmtpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = [submit_draft(make_draft(setting)[0], locale="de") for _ in range(6)]
    _smtp_up(app, smtp_server, monkeypatch)
    errors: list[BaseException] = []
    start = threading.Barrier(3)
    later = _later()

    def work(name: str) -> None:
        try:
            with app.app_context():
                start.wait()
                while process_due(worker=name, limit=2, now=later):
                    pass
        except BaseException as exc:  # the main thread reports it
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    citizen = [m for m in smtp_server.wait_for(12) if m.rcpt_tos == (CITIZEN,)]
    assert len(smtp_server.messages) == 12
    sent = Counter(m.message["Subject"] for m in citizen)
    assert sorted(sent) == sorted(f"Ihr Antrag {o.submission.reference} ist eingegangen" for o in outcomes)
    assert set(sent.values()) == {1}
    for outcome in outcomes:
        assert _citizen_row(outcome.submission.id).state is DeliveryState.DELIVERED


def test_anonymising_a_submission_erases_a_confirmation_still_waiting(
    setting: Setting, smtp_server: SmtpRecorder
) -> None:
    outcome = submit_draft(make_draft(setting)[0], locale="de")
    submission = db.session.get(Submission, outcome.submission.id)
    assert _citizen_row(outcome.submission.id).payload_stored is not None

    anonymise(submission, now=utcnow(), origin=Origin.command("test"), retention=0)
    db.session.commit()

    row = _citizen_row(outcome.submission.id)
    assert (row.payload_stored, row.target) == (None, "")


def test_the_staff_delivery_log_names_the_confirmation_in_every_language(app: Flask) -> None:
    labels = set()
    for locale in ("de", "en", "pl", "dsb"):
        with app.test_request_context(), force_locale(locale):
            labels.add(DeliveryChannel.CITIZEN_EMAIL.label)
    assert len(labels) == 4
