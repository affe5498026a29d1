"""The office PDF: rendered once after the commit, stored with its hash, retried when it failed."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import jsonschema
import pikepdf
import pytest
from flask import Flask
from sqlalchemy import select, update
from submission_builders import (
    POLISH,
    SORBIAN,
    Setting,
    make_draft,
    offer_service,
    serving_service,
    write_test_form,
)

import app.submissions.pdf as submission_pdf
from app.delivery.models import Delivery, DeliveryChannel, DeliveryState
from app.delivery.worker import Worker
from app.documents import extract_embedded_files
from app.extensions import db
from app.formspec import data_schema
from app.storage import blob_store
from app.submissions.models import EventKind, Submission
from app.submissions.pdf import render_pending_pdfs
from app.submissions.services import submit_draft
from app.timeutil import utcnow


@pytest.fixture
def setting(app: Flask, tmp_path: Path) -> Iterator[Setting]:
    with serving_service(app, write_test_form(tmp_path / "forms")) as service:
        yield offer_service(service)


def _stored_pdf(submission: Submission) -> bytes:
    assert submission.pdf_key is not None
    return blob_store().read(submission.pdf_key)


def test_pdf_embeds_the_stored_answers_which_validate_against_the_form_schema(setting: Setting) -> None:
    submission = submit_draft(make_draft(setting)[0], locale="de").submission
    submission = db.session.get(Submission, submission.id)
    data = _stored_pdf(submission)

    embedded = extract_embedded_files(data)
    answers = json.loads(embedded["data.json"])
    schema = json.loads(embedded["schema.json"])
    assert answers == submission.answers
    assert schema == data_schema(setting.service)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(answers)
    with pikepdf.open(BytesIO(data)) as pdf:
        assert pdf.open_metadata().pdfa_status == "3B"


def test_pdf_is_stored_with_its_hash_size_and_a_history_entry(setting: Setting) -> None:
    submission = submit_draft(make_draft(setting)[0], locale="de").submission
    submission = db.session.get(Submission, submission.id)
    data = _stored_pdf(submission)

    assert submission.pdf_sha256 == hashlib.sha256(data).hexdigest() == submission.pdf_key
    assert submission.pdf_size == len(data)
    assert submission.pdf_rendered_at is not None and submission.pdf_error is None
    assert [e.kind for e in submission.events].count(EventKind.PDF_RENDERED) == 1


def test_pdf_text_carries_the_answers_in_german_polish_and_sorbian(setting: Setting) -> None:
    executable = shutil.which("pdftotext")
    if executable is None:
        pytest.skip("pdftotext is missing: install Debian's poppler-utils")
    submission = submit_draft(make_draft(setting)[0], locale="de").submission
    data = _stored_pdf(db.session.get(Submission, submission.id))

    text = subprocess.run(
        [executable, "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True, timeout=60
    ).stdout.decode("utf-8")

    expected = ("Straße", POLISH, SORBIAN, "Jürgen Groß", submission.reference, "Nachweis für Jürgen.png")
    assert [part for part in expected if part not in text] == []


def test_rendering_failure_keeps_the_submission_and_the_worker_renders_it_later(
    setting: Setting, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(submission: Submission) -> bytes:
        raise RuntimeError("font cache unavailable")

    monkeypatch.setattr(submission_pdf, "render_pdf", broken)
    outcome = submit_draft(make_draft(setting)[0], locale="de")

    assert outcome.created
    submission = db.session.get(Submission, outcome.submission.id)
    assert submission.pdf_key is None
    assert "font cache unavailable" in (submission.pdf_error or "")
    assert EventKind.PDF_FAILED in [event.kind for event in submission.events]
    # The deliveries wait for the PDF instead of going out without it.
    assert {d.state for d in db.session.scalars(select(Delivery))} == {DeliveryState.PENDING}
    # A failed one is not retried at once by the worker ...
    assert render_pending_pdfs() == 0

    monkeypatch.undo()
    assert render_pending_pdfs(retry_failed_after=timedelta(0)) == 1

    submission = db.session.get(Submission, outcome.submission.id)
    assert submission.pdf_key is not None and submission.pdf_error is None
    assert json.loads(extract_embedded_files(_stored_pdf(submission))["data.json"]) == submission.answers
    assert EventKind.PDF_RENDERED in [event.kind for event in submission.events]


def test_render_pending_pdfs_is_idempotent(setting: Setting, monkeypatch: pytest.MonkeyPatch) -> None:
    submission_id = submit_draft(make_draft(setting)[0], locale="de").submission.id
    key = db.session.get(Submission, submission_id).pdf_key
    calls: list[int] = []
    real = submission_pdf.render_pdf
    monkeypatch.setattr(submission_pdf, "render_pdf", lambda s: calls.append(s.id) or real(s))

    assert render_pending_pdfs(retry_failed_after=timedelta(0)) == 0
    assert submission_pdf.render_and_store_pdf(submission_id) is True

    assert calls == []
    assert db.session.get(Submission, submission_id).pdf_key == key


def test_old_submission_renders_from_its_kept_definition_after_the_form_changed(
    setting: Setting, app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(submission: Submission) -> bytes:
        raise RuntimeError("renderer down")

    monkeypatch.setattr(submission_pdf, "render_pdf", broken)
    submission_id = submit_draft(make_draft(setting)[0], locale="de").submission.id
    monkeypatch.undo()
    changed = tmp_path / "forms" / "catalogue" / "testantrag.yaml"
    source = changed.read_text(encoding="utf-8")
    changed.write_text(source.replace("Anmerkung", "Bemerkung"), encoding="utf-8")

    with serving_service(app, tmp_path / "forms") as new_service:
        assert new_service.version != setting.service.version
        assert render_pending_pdfs(retry_failed_after=timedelta(0)) == 1

    submission = db.session.get(Submission, submission_id)
    schema = json.loads(extract_embedded_files(_stored_pdf(submission))["schema.json"])
    assert schema == data_schema(setting.service)


def _fail_first_rendering(setting: Setting, monkeypatch: pytest.MonkeyPatch) -> int:
    def broken(submission: Submission) -> bytes:
        raise RuntimeError("renderer down")

    monkeypatch.setattr(submission_pdf, "render_pdf", broken)
    submission_id = submit_draft(make_draft(setting)[0], locale="de").submission.id
    monkeypatch.undo()
    # The failure is older than the pause the worker leaves before trying again.
    db.session.execute(
        update(Submission)
        .where(Submission.id == submission_id)
        .values(updated_at=utcnow() - submission_pdf.RETRY_FAILED_AFTER - timedelta(seconds=1))
    )
    db.session.commit()
    return submission_id


def test_delivery_worker_round_renders_missing_pdfs_before_delivering(
    setting: Setting, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's round hook renders the PDF the request could not; the deliveries follow."""
    submission_id = _fail_first_rendering(setting, monkeypatch)

    Worker(poll_seconds=0, batch_size=10).run_round()

    submission = db.session.get(Submission, submission_id)
    assert submission.pdf_key is not None
    rows = db.session.scalars(select(Delivery).where(Delivery.submission_id == submission_id)).all()
    # The office's e-mail and the citizen's confirmation, which carries the PDF too.
    assert sorted(row.channel for row in rows) == [DeliveryChannel.CITIZEN_EMAIL, DeliveryChannel.EMAIL]
    assert [row.attempts for row in rows] == [1, 1], "attempted once the PDF existed"


def test_render_pdfs_command_renders_what_is_missing(
    setting: Setting, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    submission_id = _fail_first_rendering(setting, monkeypatch)

    result = app.test_cli_runner().invoke(args=["submissions", "render-pdfs"])

    assert result.exit_code == 0, result.output
    assert "1 PDF(s) rendered." in result.output
    assert db.session.get(Submission, submission_id).pdf_key is not None
