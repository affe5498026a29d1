"""The flow reads back nothing it has just written: what a step or the submit stored stays at hand
after the commit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from submission_builders import (
    PROBE,
    Setting,
    make_draft,
    make_site,
    offer_service,
    serving,
    serving_service,
    write_probe_forms,
    write_test_form,
)

import app.delivery.services as delivery_services
from app.delivery.models import Delivery, DeliveryChannel, DeliveryState
from app.extensions import db
from app.submissions.models import Draft, EventKind, Submission
from app.submissions.services import submit_draft


@pytest.fixture
def setting(app: Flask, tmp_path: Path) -> Iterator[Setting]:
    with serving_service(app, write_test_form(tmp_path / "forms")) as service:
        yield offer_service(service)


def _statements_of(work: object) -> list[str]:
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        work()  # type: ignore[operator]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return statements


def test_pdf_and_confirmation_after_the_commit_read_nothing_again(
    setting: Setting, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendering and storing the PDF and writing the confirmation use the submission, its
    attachments, commune and office as the transaction stored them: after the INSERT of the
    submission the database only sees writes."""
    monkeypatch.setitem(app.config, "DELIVERY_ATTEMPT_AFTER_COMMIT", False)
    # The first submit of a form version reads its kept definition once per process.
    submit_draft(make_draft(setting)[0], locale="de")
    draft, _ = make_draft(setting)
    outcomes = []

    statements = _statements_of(lambda: outcomes.append(submit_draft(draft, locale="de")))

    inserted = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO submission "))
    assert [s[:60] for s in statements[inserted:] if s.startswith("SELECT")] == []
    submission = outcomes[0].submission
    # What the object shows is what the database holds.
    assert submission.pdf_key is not None
    assert [e.kind for e in submission.events] == [EventKind.SUBMITTED, EventKind.PDF_RENDERED]
    db.session.expire_all()
    stored = db.session.get(Submission, submission.id)
    assert stored.pdf_key == submission.pdf_key and stored.pdf_size == submission.pdf_size
    assert [e.kind for e in stored.events] == [EventKind.SUBMITTED, EventKind.PDF_RENDERED]


def test_the_check_page_hands_its_offer_to_the_submit(
    setting: Setting, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """submit_draft with the offer the caller has just read does not read it again."""
    monkeypatch.setitem(app.config, "DELIVERY_ATTEMPT_AFTER_COMMIT", False)
    from app.catalogue.services import get_offered_service

    draft, _ = make_draft(setting)
    offered = get_offered_service(draft.commune, draft.service_slug)

    statements = _statements_of(lambda: submit_draft(draft, locale="de", offered=offered))

    assert [s for s in statements if s.startswith("SELECT") and "FROM commune_service" in s] == []


def test_first_step_inserts_its_draft_once_and_reads_nothing_back(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    """The first step's POST creates the draft with its answers in one INSERT, and the redirect
    after the commit is built from the draft and commune as they were stored."""
    with serving(app, write_probe_forms(tmp_path / "forms")) as catalogue:
        site = make_site(catalogue)
        responses = []
        person = {"name": "Erika Mustermann", "email": "erika@example.org", "rolle": "privat"}

        statements = _statements_of(
            lambda: responses.append(client.post(f"{site.base}/{PROBE}/apply/person", data=person))
        )

    assert responses[0].status_code in (302, 303)
    writes = [s.split(" (")[0] for s in statements if not s.startswith("SELECT")]
    assert [w for w in writes if "draft" in w] == ["INSERT INTO draft"]
    inserted = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO draft"))
    assert [s[:60] for s in statements[inserted:] if s.startswith("SELECT")] == []
    draft = db.session.scalars(select(Draft)).one()
    db.session.refresh(draft)
    assert draft.answers["name"] == "Erika Mustermann" and draft.completed_steps == ["person"]


def test_outbox_rows_held_by_the_session_show_the_attempt_made_after_the_commit(
    setting: Setting, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deliveries are attempted in sessions of their own; outbox rows the submitting session
    still holds (kept loaded by the submit's commit) show the outcome, not the state before it."""
    monkeypatch.setitem(app.config, "DELIVERY_ATTEMPT_AFTER_COMMIT", True)
    monkeypatch.setitem(app.config, "MAIL_ENABLED", False)  # logged, which counts as delivered
    held: list[Delivery] = []
    enqueue = delivery_services.enqueue_deliveries

    def keep(*args: object, **kwargs: object) -> list[Delivery]:
        rows = enqueue(*args, **kwargs)  # type: ignore[arg-type]
        held.extend(rows)
        return rows

    monkeypatch.setattr(delivery_services, "enqueue_deliveries", keep)

    submit_draft(make_draft(setting)[0], locale="de")

    [email] = [row for row in held if row.channel is DeliveryChannel.EMAIL]
    assert email.state is DeliveryState.DELIVERED
