"""Retention: ``flask submissions purge`` anonymises what is due, deletes files and drafts, audits."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select
from submission_builders import Place, inbox_answers, make_submission, with_file

from app.catalogue.models import CommuneService
from app.extensions import db
from app.formspec import ServiceSpec
from app.staff.inbox.retention import DEFAULT_RETENTION_DAYS, REDACTED_FILENAME, purge, retention_days
from app.staff.models import AuditAction, AuditEntry
from app.storage import blob_store
from app.submissions.drafts import create_draft
from app.submissions.models import Draft, EventKind, Submission, SubmissionEvent, SubmissionStatus
from app.timeutil import utcnow

S = SubmissionStatus


def _closed(
    service: ServiceSpec, place: Place, days_ago: int, status: S = S.COMPLETED, **kwargs: object
) -> Submission:
    submission = make_submission(
        service,
        place.commune,
        place.office,
        kwargs.pop("values", None) or with_file(inbox_answers()),  # type: ignore[arg-type]
        status=status,
        completed_at=utcnow() - timedelta(days=days_ago),
        pdf=b"%PDF-1.7 " + os.urandom(8),
        **kwargs,
    )
    submission.events.append(
        SubmissionEvent(kind=EventKind.STATUS_CHANGED, actor_name="Karla", text="Erika, alles erledigt")
    )
    db.session.commit()
    return submission


def _fresh(submission: Submission) -> Submission:
    found = db.session.get(Submission, submission.id, populate_existing=True)
    assert found is not None
    return found


def _purged_entries() -> list[AuditEntry]:
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == AuditAction.SUBMISSION_PURGED))
    )


def test_retention_period_comes_from_the_commune_then_the_service_then_the_default(
    service: ServiceSpec, place: Place
) -> None:
    assert retention_days(place.commune, "inboxtest") == 30  # the form's retention_days
    assert retention_days(place.commune, "gibt-es-nicht") == DEFAULT_RETENTION_DAYS
    choice = db.session.scalar(select(CommuneService).where(CommuneService.commune_id == place.commune.id))
    assert choice is not None
    choice.retention_days = 7
    db.session.commit()
    assert retention_days(place.commune, "inboxtest") == 7


def test_dry_run_lists_what_is_due_and_changes_nothing(service: ServiceSpec, place: Place) -> None:
    due = _closed(service, place, days_ago=31)
    _closed(service, place, days_ago=29)
    before = dict(_fresh(due).answers)
    report = purge(dry_run=True)
    assert report.anonymised == [due.reference]
    fresh = _fresh(due)
    assert fresh.answers == before and fresh.anonymised_at is None and fresh.pdf_key is not None
    assert blob_store().exists(fresh.pdf_key)
    assert _purged_entries() == []


def test_purge_anonymises_due_submissions_deletes_their_files_and_audits_each(
    service: ServiceSpec, place: Place
) -> None:
    completed = _closed(service, place, days_ago=31)
    rejected = _closed(service, place, days_ago=40, status=S.REJECTED)
    recent = _closed(service, place, days_ago=10)
    open_one = make_submission(service, place.commune, place.office, status=S.IN_PROGRESS)
    keys = {s.reference: (s.pdf_key, s.attachments[0].storage_key) for s in (completed, rejected)}
    version = completed.version

    report = purge()

    assert sorted(report.anonymised) == sorted([completed.reference, rejected.reference])
    for submission in (completed, rejected):
        fresh = _fresh(submission)
        assert fresh.answers == {} and fresh.submitter_name == "" and fresh.submitter_email == ""
        assert fresh.pdf_key is None and fresh.pdf_sha256 is None and fresh.anonymised_at is not None
        assert fresh.version > version
        (attachment,) = fresh.attachments
        assert attachment.filename == REDACTED_FILENAME and attachment.storage_key is None
        for key in keys[submission.reference]:
            assert key is not None and not blob_store().exists(key)
        assert [e.text for e in fresh.events] == ["", "Nach Ablauf der Aufbewahrungsfrist anonymisiert."]
        assert fresh.events[-1].kind is EventKind.ANONYMISED
    for untouched in (recent, open_one):
        fresh = _fresh(untouched)
        assert fresh.anonymised_at is None and fresh.answers["name"] == "Erika Mustermann"
        assert blob_store().exists(fresh.pdf_key or "")
    entries = _purged_entries()
    assert sorted(e.object_id for e in entries) == sorted(report.anonymised)
    assert all(e.user_agent == "cli: submissions purge" and e.commune_id == place.commune.id for e in entries)
    assert entries[0].details["retention_days"] == 30


def test_a_second_run_does_nothing(service: ServiceSpec, place: Place) -> None:
    _closed(service, place, days_ago=31)
    assert len(purge().anonymised) == 1
    again = purge()
    assert again.anonymised == [] and again.skipped == [] and again.files == 0
    assert len(_purged_entries()) == 1


def test_a_file_another_submission_still_uses_is_kept(service: ServiceSpec, place: Place) -> None:
    shared = with_file(inbox_answers(), b"%PDF-1.4 derselbe Nachweis", "gemeinsam.pdf")
    due = _closed(service, place, days_ago=31, values=shared)
    keeps = make_submission(service, place.commune, place.office, dict(shared))
    key = due.attachments[0].storage_key
    assert key is not None and key == keeps.attachments[0].storage_key
    purge()
    assert _fresh(due).anonymised_at is not None
    assert blob_store().exists(key)


def test_the_commune_s_retention_override_applies(service: ServiceSpec, place: Place) -> None:
    choice = db.session.scalar(select(CommuneService).where(CommuneService.commune_id == place.commune.id))
    assert choice is not None
    choice.retention_days = 100
    db.session.commit()
    kept = _closed(service, place, days_ago=31)
    assert purge().anonymised == []
    assert _fresh(kept).anonymised_at is None


def test_expired_drafts_are_purged_with_an_audit_entry(service: ServiceSpec, place: Place) -> None:
    old, _token = create_draft(place.commune, service, locale="de", now=utcnow() - timedelta(days=400))
    fresh, _token = create_draft(place.commune, service, locale="de")
    db.session.commit()
    dry = purge(dry_run=True)
    assert dry.drafts == 1 and db.session.get(Draft, old.id) is not None
    report = purge()
    assert report.drafts == 1
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 1
    assert db.session.get(Draft, fresh.id) is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.DRAFT_PURGED))
    assert entry is not None and entry.details["drafts"] == 1


def test_two_runs_at_once_anonymise_each_submission_once(
    app: Flask, service: ServiceSpec, place: Place
) -> None:
    due = [_closed(service, place, days_ago=31 + n) for n in range(6)]
    reports = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                reports.append(purge())
                db.session.remove()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    done = [reference for report in reports for reference in report.anonymised]
    assert sorted(done) == sorted(s.reference for s in due)
    assert sorted(e.object_id for e in _purged_entries()) == sorted(s.reference for s in due)


def test_the_command_prints_what_it_did(app: Flask, service: ServiceSpec, place: Place) -> None:
    due = _closed(service, place, days_ago=31)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["submissions", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run: 1 submission(s) and 0 draft(s) are due." in dry.output and due.reference in dry.output
    assert _fresh(due).anonymised_at is None
    real = runner.invoke(args=["submissions", "purge"])
    assert real.exit_code == 0, real.output
    assert f"anonymised: {due.reference}" in real.output and "1 submission(s) anonymised" in real.output
    again = runner.invoke(args=["submissions", "purge"])
    assert "0 submission(s) anonymised" in again.output
