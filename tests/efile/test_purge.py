"""``flask efile purge-inspections``: grants ended long ago go with their access logs and the files
uploaded only for them; files the submission still holds stay; running grants are untouched."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select
from submission_builders import Place, make_submission

from app.efile import inspection
from app.efile.models import InspectionAccess, InspectionDocument, InspectionGrant
from app.extensions import db
from app.formspec import ServiceSpec
from app.staff.audit import Origin
from app.storage import blob_store
from app.timeutil import utcnow


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_purge_deletes_long_ended_grants_and_their_uploads_but_keeps_the_submissions_files(
    app: Flask, service: ServiceSpec, place: Place
) -> None:
    submission = make_submission(service, place.commune, place.office)
    origin = Origin.command("test")
    old, _ = inspection.create_grant(
        submission,
        recipient="erika@example.org",
        days=1,
        document_keys=["pdf"],
        uploads=[inspection.Upload("Vermerk.txt", "text/plain", b"nur fuer die Einsicht")],
        origin=origin,
        now=utcnow() - timedelta(days=200),
    )
    running, _ = inspection.create_grant(
        submission, recipient="erika@example.org", days=14, document_keys=["pdf"], origin=origin
    )
    db.session.flush()
    inspection.log_access(old, None, client_address="192.0.2.1", user_agent="test")
    db.session.commit()
    upload_key = old.documents[1].storage_key
    assert blob_store().exists(upload_key)

    result = app.test_cli_runner().invoke(args=["efile", "purge-inspections"])
    assert result.exit_code == 0, result.output
    assert "1 ended inspection grant(s) deleted, 1 file(s) removed." in result.output
    assert db.session.scalars(select(InspectionGrant.id)).all() == [running.id]
    assert _count(InspectionDocument) == 1 and _count(InspectionAccess) == 0
    assert not blob_store().exists(upload_key)
    assert submission.pdf_key is not None and blob_store().exists(submission.pdf_key)


def test_a_revoked_grant_is_kept_for_the_keep_period(service: ServiceSpec, place: Place) -> None:
    submission = make_submission(service, place.commune, place.office)
    origin = Origin.command("test")
    grant, _ = inspection.create_grant(
        submission, recipient="erika@example.org", days=30, document_keys=["pdf"], origin=origin
    )
    inspection.revoke_grant(grant, origin=origin, now=utcnow() - timedelta(days=10))
    db.session.commit()
    assert inspection.purge_ended_grants() == inspection.PurgeReport(grants=0, files=0)
    assert inspection.purge_ended_grants(keep_days=5) == inspection.PurgeReport(grants=1, files=0)
    assert _count(InspectionGrant) == 0
