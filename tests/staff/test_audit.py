"""The audit log: what is recorded, that it cannot be changed, and the audit view."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from factories import make_commune
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.staff import services
from app.staff.audit import AuditFilter, Origin, audit_page, record
from app.staff.models import AuditAction, AuditEntry, AuditLogImmutable, Role, append_only_statements

from .builders import log_in, make_user

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def _entry(**fields: object) -> AuditEntry:
    entry = record(
        fields.pop("action", AuditAction.SUBMISSION_VIEWED),  # type: ignore[arg-type]
        origin=Origin(email="clerk@example.org", client_address="192.0.2.5", user_agent="Firefox"),
        **fields,  # type: ignore[arg-type]
    )
    db.session.commit()
    return entry


@pytest.mark.usefixtures("app")
def test_record_keeps_who_what_where_and_from_where() -> None:
    commune = make_commune()
    user = make_user(Role.CLERK, commune=commune)
    entry = record(
        AuditAction.SUBMISSION_STATUS_CHANGED,
        origin=Origin(user=user, client_address="2001:db8::1", user_agent="x" * 500),
        commune_id=commune.id,
        object_type="submission",
        object_id="WER-2026-000123",
        details={"from": "received", "to": "in_progress"},
        at=T0,
    )
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(AuditEntry, entry.id)
    assert stored is not None
    assert (stored.actor_id, stored.actor_email) == (user.id, user.email)
    assert stored.action is AuditAction.SUBMISSION_STATUS_CHANGED
    assert (stored.object_type, stored.object_id) == ("submission", "WER-2026-000123")
    assert stored.commune_id == commune.id
    assert stored.client_address == "2001:db8::1"
    assert len(stored.user_agent) == 200
    assert stored.details == {"from": "received", "to": "in_progress"}
    assert stored.at == T0


@pytest.mark.usefixtures("app")
def test_entries_cannot_be_changed_or_deleted_through_the_orm() -> None:
    entry = _entry()
    entry.actor_email = "someone-else@example.org"
    with pytest.raises(AuditLogImmutable):
        db.session.commit()
    db.session.rollback()
    db.session.delete(entry)
    with pytest.raises(AuditLogImmutable):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(AuditLogImmutable):
        db.session.execute(update(AuditEntry).values(actor_email="x"))
    with pytest.raises(AuditLogImmutable):
        db.session.execute(delete(AuditEntry))
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.actor_email)) == "clerk@example.org"


@pytest.mark.usefixtures("app")
def test_postgresql_refuses_update_and_delete_of_audit_rows() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    _entry()
    for statement in ("UPDATE audit_entry SET actor_email = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1


def test_append_only_statements_are_exposed_for_the_migration() -> None:
    statements = append_only_statements()
    assert any("CREATE OR REPLACE FUNCTION audit_entry_append_only" in s for s in statements)
    assert any("BEFORE UPDATE OR DELETE ON audit_entry" in s for s in statements)


@pytest.mark.usefixtures("app")
def test_account_changes_are_recorded() -> None:
    commune = make_commune()
    origin = Origin.command("users create")
    user = services.create_user(
        email="neu@example.org", name="Neu", role=Role.EDITOR, commune=commune, password=None, origin=origin
    )
    services.update_user(user, name="Neu", role=Role.CLERK, commune=commune, offices=[], origin=origin)
    services.set_password(user, "Ein ganz neues Passwort 2026", origin=origin)
    services.set_active(user, False, origin=origin)
    services.set_active(user, True, origin=origin)
    db.session.commit()
    entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [e.action for e in entries] == [
        AuditAction.USER_CREATED,
        AuditAction.USER_CHANGED,
        AuditAction.PASSWORD_CHANGED,
        AuditAction.USER_DISABLED,
        AuditAction.USER_ENABLED,
    ]
    assert entries[1].details == {"changes": {"role": ["editor", "clerk"]}}
    assert all(e.user_agent == "cli: users create" and e.commune_id == commune.id for e in entries)
    assert all("Passwort" not in str(e.details) for e in entries)


@pytest.mark.usefixtures("app")
def test_keyset_pages_run_newest_first_and_back() -> None:
    ids = [_entry(object_id=str(i), at=T0 + timedelta(minutes=i)).id for i in range(7)]
    first = audit_page(AuditFilter(), size=3)
    assert [e.id for e in first.entries] == ids[6:3:-1]
    assert first.newer_cursor is None
    second = audit_page(AuditFilter(), before=first.older_cursor, size=3)
    assert [e.id for e in second.entries] == ids[3:0:-1]
    third = audit_page(AuditFilter(), before=second.older_cursor, size=3)
    assert [e.id for e in third.entries] == [ids[0]]
    assert third.older_cursor is None
    back = audit_page(AuditFilter(), after=third.newer_cursor, size=3)
    assert [e.id for e in back.entries] == [e.id for e in second.entries]


@pytest.mark.usefixtures("app")
def test_filters_by_commune_action_actor_and_time() -> None:
    a, b = make_commune(), make_commune()
    _entry(commune_id=a.id, at=T0)
    _entry(commune_id=b.id, at=T0)
    _entry(commune_id=a.id, action=AuditAction.LOGIN, at=T0 + timedelta(days=2))

    def found(**criteria: object) -> int:
        return len(audit_page(AuditFilter(**criteria)).entries)  # type: ignore[arg-type]

    assert found() == 3
    assert found(commune_id=a.id) == 2
    assert found(commune_id=a.id, action=AuditAction.LOGIN) == 1
    assert found(actor_email="CLERK@") == 3
    assert found(actor_email="other") == 0
    assert found(actor_email="%") == 0
    assert found(since=T0 + timedelta(days=1)) == 1
    assert found(until=T0 + timedelta(days=1)) == 2


def test_commune_audit_view_shows_only_that_communes_entries(client: FlaskClient) -> None:
    a, b = make_commune(name="Gemeinde Alpha"), make_commune(name="Gemeinde Beta")
    admin = make_user(Role.COMMUNE_ADMIN, commune=a)
    _entry(commune_id=a.id, object_type="submission", object_id="ALP-2026-000001")
    _entry(commune_id=b.id, object_type="submission", object_id="BET-2026-000001")
    log_in(client, admin)
    page = client.get(f"/staff/{a.slug}/audit").get_data(as_text=True)
    assert "ALP-2026-000001" in page
    assert "BET-2026-000001" not in page
    assert "Anmeldung" in page  # the admin's own login, recorded with commune a


def test_audit_view_filters_and_pages(client: FlaskClient) -> None:
    commune = make_commune()
    admin = make_user(Role.COMMUNE_ADMIN, commune=commune)
    for i in range(60):
        _entry(commune_id=commune.id, object_type="submission", object_id=f"REF-{i:03d}", at=T0)
    log_in(client, admin)
    first = client.get(f"/staff/{commune.slug}/audit", query_string={"action": "submission_viewed"})
    html = first.get_data(as_text=True)
    assert "REF-059" in html and "REF-010" in html and "REF-009" not in html
    assert "Ältere Einträge" in html
    older = client.get(
        f"/staff/{commune.slug}/audit",
        query_string={"action": "submission_viewed", "before": _older_cursor(html)},
    ).get_data(as_text=True)
    assert "REF-009" in older and "REF-000" in older and "REF-010" not in older
    assert "Neuere Einträge" in older


def _older_cursor(html: str) -> str:
    match = re.search(r'rel="next" href="[^"]*before=(\d+)', html)
    assert match
    return match.group(1)


def test_audit_view_refuses_bad_filter_values_with_a_message(client: FlaskClient) -> None:
    commune = make_commune()
    admin = make_user(Role.COMMUNE_ADMIN, commune=commune)
    log_in(client, admin)
    response = client.get(
        f"/staff/{commune.slug}/audit", query_string={"action": "erfunden", "since": "gestern", "before": "x"}
    )
    assert response.status_code == 200
    assert "Es gibt ein Problem" in response.get_data(as_text=True)
