"""submit_draft: one transaction that stores everything, gap-free references, idempotent per draft."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from delivery.servers import SmtpRecorder
from factories import make_commune
from flask import Flask
from flask_babel import force_locale, format_datetime
from sqlalchemy import func, select
from submission_builders import (
    Setting,
    blob_count,
    complete_answers,
    make_draft,
    offer_service,
    serving_service,
    write_test_form,
)

import app.delivery.services as delivery_services
from app.delivery.models import Delivery, DeliveryChannel, DeliveryState
from app.extensions import db
from app.storage import blob_store
from app.submissions.models import (
    Attachment,
    Draft,
    EventKind,
    FormDefinition,
    ReferenceCounter,
    Submission,
    SubmissionStatus,
)
from app.submissions.services import (
    IncompleteDraft,
    ServiceNotOffered,
    hash_token,
    submit_draft,
    submitter_of,
)
from app.timeutil import to_berlin, utcnow


@pytest.fixture
def setting(app: Flask, tmp_path: Path) -> Iterator[Setting]:
    with serving_service(app, write_test_form(tmp_path / "forms")) as service:
        yield offer_service(service, webhook_url="http://127.0.0.1:9/hook", webhook_secret="s3cret")


PUBLIC_BASE_URL = "https://portal.example"


@pytest.fixture
def smtp_server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpRecorder]:
    """A real SMTP server on 127.0.0.1, with mail switched on and pointed at it."""
    server = SmtpRecorder().start()
    settings = {
        "MAIL_ENABLED": True,
        "MAIL_SERVER": server.host,
        "MAIL_PORT": server.port,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": "",
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "DELIVERY_ATTEMPT_AFTER_COMMIT": True,
        # The setting's webhook is 127.0.0.1:9, a receiver that is down, not a refused address.
        "DELIVERY_ALLOW_PRIVATE_TARGETS": True,
    }
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    yield server
    server.stop()


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_submit_stores_answers_definition_attachments_reference_token_event_and_outbox(
    setting: Setting,
) -> None:
    draft, _ = make_draft(setting)
    answers = dict(draft.answers)

    outcome = submit_draft(draft, locale="pl")

    assert outcome.created
    submission = db.session.get(Submission, outcome.submission.id)
    year = to_berlin(utcnow()).year
    assert submission.reference == f"{setting.commune.short_code}-{year}-000001"
    assert re.fullmatch(r"[A-Z0-9]{1,6}-\d{4}-\d{6}", submission.reference)
    assert (submission.reference_year, submission.reference_number) == (year, 1)
    assert submission.answers == answers
    assert submission.office_id == setting.office.id
    assert submission.status is SubmissionStatus.RECEIVED
    assert submission.locale == "pl"
    assert (submission.submitter_name, submission.submitter_email) == ("Jürgen Groß", "juergen@example.org")
    assert submission.fee_total == Decimal("15.00")
    definition = db.session.get(FormDefinition, submission.form_version)
    assert definition is not None and definition.source == setting.service.source
    assert submission.form_version == setting.service.version

    # The token is handed out once and stored only as its SHA-256.
    assert outcome.token and len(outcome.token) >= 43
    assert submission.tracking_token_hash == hash_token(outcome.token)
    assert outcome.token not in submission.tracking_token_hash

    [attachment] = submission.attachments
    upload = answers["nachweis"]
    assert (attachment.field_name, attachment.filename, attachment.media_type) == (
        "nachweis",
        "Nachweis für Jürgen.png",
        "image/png",
    )
    assert (attachment.sha256, attachment.storage_key, attachment.size) == (
        upload["sha256"],
        upload["storage_key"],
        upload["size"],
    )
    assert EventKind.SUBMITTED in [event.kind for event in submission.events]
    deliveries = db.session.scalars(select(Delivery).where(Delivery.submission_id == submission.id)).all()
    assert sorted(d.channel for d in deliveries) == [
        DeliveryChannel.CITIZEN_EMAIL,
        DeliveryChannel.EMAIL,
        DeliveryChannel.WEBHOOK,
    ]
    assert db.session.get(Draft, draft.id).submission_id == submission.id
    assert submission.draft_key == draft.token_hash


def test_failure_before_commit_leaves_no_submission_no_number_and_no_blob(
    setting: Setting, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure in the middle (the outbox) rolls back everything, the reference number included."""
    draft, _ = make_draft(setting)
    blobs_before = blob_count(app.config["STORAGE_DIR"])

    def broken(*args: Any, **kwargs: Any) -> list[Delivery]:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(delivery_services, "enqueue_deliveries", broken)
    with pytest.raises(RuntimeError, match="outbox unavailable"):
        submit_draft(draft, locale="de")

    assert _count(Submission) == 0
    assert _count(Attachment) == 0
    assert _count(FormDefinition) == 0
    assert db.session.scalar(select(func.coalesce(func.max(ReferenceCounter.last_number), 0))) == 0
    assert db.session.get(Draft, draft.id).submission_id is None
    assert blob_count(app.config["STORAGE_DIR"]) == blobs_before

    monkeypatch.undo()
    outcome = submit_draft(db.session.get(Draft, draft.id), locale="de")
    assert outcome.submission.reference_number == 1, "the rolled-back number is handed out again"


def test_same_draft_submitted_twice_gives_one_submission(setting: Setting) -> None:
    draft, _ = make_draft(setting)
    first = submit_draft(draft, locale="de")
    second = submit_draft(db.session.get(Draft, draft.id), locale="de")

    assert not second.created and second.token is None
    assert second.submission.id == first.submission.id
    assert _count(Submission) == 1
    assert db.session.scalar(select(ReferenceCounter.last_number)) == 1
    # The office's e-mail, the webhook and the citizen's confirmation, once each.
    assert _count(Delivery) == 3


def test_same_draft_submitted_by_two_threads_at_once_gives_one_submission(
    setting: Setting, app: Flask
) -> None:
    """Two requests of one double click race; the draft row lock (or draft_key) lets one win."""
    draft_id = make_draft(setting)[0].id
    barrier = threading.Barrier(2)
    outcomes: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            with app.app_context():
                mine = db.session.get(Draft, draft_id)
                barrier.wait(timeout=10)
                outcome = submit_draft(mine, locale="de")
                outcomes.append((outcome.submission.id, outcome.created))
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(created for _, created in outcomes) == [False, True]
    assert len({submission_id for submission_id, _ in outcomes}) == 1
    assert _count(Submission) == 1
    assert db.session.scalar(select(ReferenceCounter.last_number)) == 1


def test_references_count_per_commune_without_gaps(setting: Setting) -> None:
    other = offer_service(setting.service, commune=make_commune())
    references = [submit_draft(make_draft(setting)[0], locale="de").submission.reference for _ in range(3)]
    elsewhere = submit_draft(make_draft(other)[0], locale="de").submission.reference

    assert [ref.rsplit("-", 1)[1] for ref in references] == ["000001", "000002", "000003"]
    assert elsewhere.startswith(other.commune.short_code + "-") and elsewhere.endswith("-000001")


def test_incomplete_draft_is_refused_and_nothing_stored(setting: Setting) -> None:
    answers = complete_answers()
    del answers["name"]
    draft, _ = make_draft(setting, answers)

    with pytest.raises(IncompleteDraft) as refused:
        submit_draft(draft, locale="de")

    assert refused.value.steps == ["person"]
    assert _count(Submission) == 0


def test_draft_whose_upload_vanished_is_sent_back_to_that_step(setting: Setting, app: Flask) -> None:
    draft, _ = make_draft(setting)
    blob_store().delete(draft.answers["nachweis"]["storage_key"])

    with pytest.raises(IncompleteDraft) as refused:
        submit_draft(draft, locale="de")

    assert refused.value.steps == ["nachweise"]
    assert _count(Submission) == 0


def test_service_switched_off_meanwhile_is_refused(setting: Setting) -> None:
    draft, _ = make_draft(setting)
    setting.choice.enabled = False
    db.session.commit()

    with pytest.raises(ServiceNotOffered):
        submit_draft(draft, locale="de")
    assert _count(Submission) == 0


def test_fee_override_of_the_commune_replaces_the_base_fee(setting: Setting) -> None:
    setting.choice.fee_override = Decimal("20.00")
    db.session.commit()
    draft, _ = make_draft(setting)

    submission = submit_draft(draft, locale="de").submission

    assert submission.fee_total == Decimal("25.00")


def test_submitter_is_found_by_autocomplete_tokens(setting: Setting) -> None:
    assert submitter_of(setting.service, {"name": " Anna Nowak ", "email": "anna@example.org"}) == (
        "Anna Nowak",
        "anna@example.org",
    )
    assert submitter_of(setting.service, {"name": "Anna Nowak"}) == ("Anna Nowak", "")


def test_deliveries_wait_for_the_pdf_and_are_attempted_after_commit(
    setting: Setting, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Right after the commit the PDF exists, so the request itself attempts the deliveries."""
    attempted: list[list[int]] = []
    monkeypatch.setattr(delivery_services, "attempt_after_commit", lambda ids: attempted.append(list(ids)))
    draft, _ = make_draft(setting)

    submission = submit_draft(draft, locale="de").submission

    ids = sorted(db.session.scalars(select(Delivery.id).where(Delivery.submission_id == submission.id)))
    assert attempted == [ids]
    assert db.session.get(Submission, submission.id).pdf_key is not None
    assert {d.state for d in db.session.scalars(select(Delivery))} == {DeliveryState.PENDING}


def test_office_and_citizen_get_their_mails_with_the_pdf(
    setting: Setting, smtp_server: SmtpRecorder
) -> None:
    """The office's e-mail goes out right after the commit; the citizen's confirmation, in the
    citizen's language, carries the PDF and the status link with the token."""
    draft, _ = make_draft(setting, locale="pl")

    outcome = submit_draft(draft, locale="pl")

    submission = db.session.get(Submission, outcome.submission.id)
    mails = smtp_server.wait_for(2)
    by_recipient = {mail.rcpt_tos[0]: mail for mail in mails}
    assert sorted(by_recipient) == ["juergen@example.org", "ordnungsamt@example.org"]
    citizen = by_recipient["juergen@example.org"]
    pdf = blob_store().read(submission.pdf_key)
    assert citizen.attachments() == {f"{submission.reference}.pdf": pdf}
    body = citizen.message.get_body(preferencelist=("plain",)).get_content()
    status_path = f"/{setting.commune.slug}/status/{submission.reference}"
    assert f"{PUBLIC_BASE_URL}{status_path}?token={outcome.token}" in body
    with force_locale("pl"):
        assert format_datetime(submission.submitted_at) in body
    assert submission.reference in citizen.message["Subject"]
    assert by_recipient["ordnungsamt@example.org"].attachments()[f"{submission.reference}.pdf"] == pdf
    states = {d.channel: d.state for d in db.session.scalars(select(Delivery))}
    # The webhook target of this setting is down: it waits for the worker's retry.
    assert states == {
        DeliveryChannel.EMAIL: DeliveryState.DELIVERED,
        DeliveryChannel.CITIZEN_EMAIL: DeliveryState.DELIVERED,
        DeliveryChannel.WEBHOOK: DeliveryState.PENDING,
    }


def test_no_confirmation_mail_without_an_address(
    setting: Setting, smtp_server: SmtpRecorder
) -> None:
    answers = complete_answers(email=None)
    submit_draft(make_draft(setting, answers)[0], locale="de")

    mails = smtp_server.wait_for(1)
    assert [mail.rcpt_tos for mail in mails] == [("ordnungsamt@example.org",)]


def test_concurrent_submissions_of_one_commune_get_consecutive_numbers(setting: Setting, app: Flask) -> None:
    """Eight submits at once: no "database is locked" on SQLite, no gap and no duplicate anywhere."""
    draft_ids = [make_draft(setting)[0].id for _ in range(8)]
    barrier = threading.Barrier(len(draft_ids))
    numbers: list[int] = []
    errors: list[BaseException] = []

    def submit(draft_id: int) -> None:
        try:
            with app.app_context():
                draft = db.session.get(Draft, draft_id)
                barrier.wait(timeout=10)
                numbers.append(submit_draft(draft, locale="de").submission.reference_number)
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(draft_id,)) for draft_id in draft_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(numbers) == list(range(1, len(draft_ids) + 1))
