"""Staff accounts, their offices, recovery codes, login attempts and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    event,
)
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, mapped_column, relationship, validates

from app import encryption
from app.extensions import db
from app.tenancy.models import Commune, Office
from app.timeutil import UTCDateTime, utcnow


def _enum(cls: type[enum.Enum], length: int) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


def normalise_email(email: str) -> str:
    """The form in which e-mail addresses are stored and compared: trimmed, lower case."""
    return email.strip().lower()


class Role(enum.StrEnum):
    """What a staff user does; see :mod:`app.staff.permissions` for what each may."""

    ASSOCIATION_ADMIN = "association_admin"
    COMMUNE_ADMIN = "commune_admin"
    CLERK = "clerk"
    EDITOR = "editor"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])

    @property
    def needs_commune(self) -> bool:
        return self is not Role.ASSOCIATION_ADMIN


ROLE_LABELS = {
    Role.ASSOCIATION_ADMIN: _l("Verbandsadministration"),
    Role.COMMUNE_ADMIN: _l("Kommunale Administration"),
    Role.CLERK: _l("Sachbearbeitung"),
    Role.EDITOR: _l("Redaktion"),
}


user_office = Table(
    "staff_user_office",
    db.metadata,
    Column("user_id", ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
    Column("office_id", ForeignKey("office.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(db.Model):
    """A person who works in the staff workspace.

    ``auth_generation`` is part of the session's user id (see :meth:`get_id`);
    raising it logs out every session that was opened before.
    """

    __tablename__ = "staff_user"
    __table_args__ = (
        CheckConstraint(
            "(role = 'association_admin' AND commune_id IS NULL)"
            " OR (role <> 'association_admin' AND commune_id IS NOT NULL)",
            name="role_commune",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    role: Mapped[Role] = mapped_column(_enum(Role, 30))
    commune_id: Mapped[int | None] = mapped_column(
        ForeignKey("commune.id", ondelete="RESTRICT"), index=True, default=None
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    auth_generation: Mapped[int] = mapped_column(Integer, default=1)
    #: The TOTP secret as stored: encrypted (see :mod:`app.encryption`), or clear text
    #: from before encryption. Read and set :attr:`totp_secret` instead.
    totp_secret_stored: Mapped[str | None] = mapped_column(
        "totp_secret", String(255), default=None, info=encryption.ENCRYPTED
    )
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The time step of the last accepted code, so a code cannot be used twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    commune: Mapped[Commune | None] = relationship()
    offices: Mapped[list[Office]] = relationship(secondary=user_office, order_by=Office.name)
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @validates("email")
    def _normalise_email(self, _key: str, value: str) -> str:
        return normalise_email(value)

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The session's user id: the row id and the authentication generation."""
        return f"{self.id}:{self.auth_generation}"

    totp_secret = encryption.EncryptedAttribute("totp_secret_stored")

    def reencrypt_totp_secret(self) -> bool:
        """Store the TOTP secret under the first key if it is not yet; whether it changed."""
        stored = self.totp_secret_stored
        if not stored or encryption.is_current(stored):
            return False
        self.totp_secret = encryption.decrypt(stored)
        return True

    @property
    def two_factor_enabled(self) -> bool:
        return bool(self.totp_secret_stored) and self.totp_confirmed

    @property
    def two_factor_required(self) -> bool:
        """Whether the user's commune makes two-factor authentication mandatory."""
        return self.commune is not None and self.commune.require_two_factor

    @property
    def office_ids(self) -> frozenset[int]:
        return frozenset(office.id for office in self.offices)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class RecoveryCode(db.Model):
    """A single-use code that stands in for a TOTP code; only its hash is stored."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class LoginAttempt(db.Model):
    """One password or second-factor attempt, kept briefly for throttling.

    It lives in the database so that every worker process and host sees the same
    counts.
    """

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_client_address_at", "client_address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    email: Mapped[str] = mapped_column(String(254))
    client_address: Mapped[str] = mapped_column(String(45))
    succeeded: Mapped[bool] = mapped_column(Boolean)


class AuditAction(enum.StrEnum):
    """What an audit entry records. Stored as text: adding a member needs no migration."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGIN_LOCKED = "login_locked"
    LOGOUT = "logout"
    SESSION_EXPIRED = "session_expired"
    PASSWORD_CHANGED = "password_changed"
    TWO_FACTOR_ENABLED = "two_factor_enabled"
    TWO_FACTOR_DISABLED = "two_factor_disabled"
    RECOVERY_CODES_GENERATED = "recovery_codes_generated"
    RECOVERY_CODE_USED = "recovery_code_used"
    USER_CREATED = "user_created"
    USER_INVITED = "user_invited"
    USER_CHANGED = "user_changed"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    SUBMISSION_VIEWED = "submission_viewed"
    SUBMISSION_STATUS_CHANGED = "submission_status_changed"
    SUBMISSION_ASSIGNED = "submission_assigned"
    SUBMISSION_NOTE_ADDED = "submission_note_added"
    SUBMISSION_MESSAGE_SENT = "submission_message_sent"
    SUBMISSION_EXPORTED = "submission_exported"
    SUBMISSIONS_LIST_EXPORTED = "submissions_list_exported"
    DOCUMENT_DOWNLOADED = "document_downloaded"
    ATTACHMENT_DOWNLOADED = "attachment_downloaded"
    DELIVERY_RETRIED = "delivery_retried"
    SUBMISSION_PURGED = "submission_purged"
    DRAFT_PURGED = "draft_purged"
    CONTENT_CREATED = "content_created"
    CONTENT_CHANGED = "content_changed"
    CONTENT_DELETED = "content_deleted"
    CONTENT_STATE_CHANGED = "content_state_changed"
    COMMUNE_CREATED = "commune_created"
    COMMUNE_CHANGED = "commune_changed"
    OFFICE_CREATED = "office_created"
    OFFICE_CHANGED = "office_changed"
    SERVICE_CHANGED = "service_changed"
    API_CLIENT_CREATED = "api_client_created"
    API_CLIENT_REVOKED = "api_client_revoked"
    SUBMISSIONS_LISTED = "submissions_listed"
    INSPECTION_GRANTED = "inspection_granted"
    INSPECTION_REVOKED = "inspection_revoked"

    @property
    def label(self) -> str:
        return str(AUDIT_ACTION_LABELS.get(self, self.value))


AUDIT_ACTION_LABELS = {
    AuditAction.LOGIN: _l("Anmeldung"),
    AuditAction.LOGIN_FAILED: _l("Fehlgeschlagene Anmeldung"),
    AuditAction.LOGIN_LOCKED: _l("Anmeldung gesperrt"),
    AuditAction.LOGOUT: _l("Abmeldung"),
    AuditAction.SESSION_EXPIRED: _l("Sitzung abgelaufen"),
    AuditAction.PASSWORD_CHANGED: _l("Passwort geändert"),
    AuditAction.TWO_FACTOR_ENABLED: _l("Zwei-Faktor-Anmeldung eingerichtet"),
    AuditAction.TWO_FACTOR_DISABLED: _l("Zwei-Faktor-Anmeldung abgeschaltet"),
    AuditAction.RECOVERY_CODES_GENERATED: _l("Wiederherstellungscodes erzeugt"),
    AuditAction.RECOVERY_CODE_USED: _l("Wiederherstellungscode benutzt"),
    AuditAction.USER_CREATED: _l("Konto angelegt"),
    AuditAction.USER_INVITED: _l("Konto eingeladen"),
    AuditAction.USER_CHANGED: _l("Konto geändert"),
    AuditAction.USER_DISABLED: _l("Konto deaktiviert"),
    AuditAction.USER_ENABLED: _l("Konto aktiviert"),
    AuditAction.SUBMISSION_VIEWED: _l("Antrag angesehen"),
    AuditAction.SUBMISSION_STATUS_CHANGED: _l("Bearbeitungsstand geändert"),
    AuditAction.SUBMISSION_ASSIGNED: _l("Antrag zugewiesen"),
    AuditAction.SUBMISSION_NOTE_ADDED: _l("Interne Notiz"),
    AuditAction.SUBMISSION_MESSAGE_SENT: _l("Nachricht an Antragsteller"),
    AuditAction.SUBMISSION_EXPORTED: _l("Antrag exportiert"),
    AuditAction.SUBMISSIONS_LIST_EXPORTED: _l("Antragsliste exportiert"),
    AuditAction.DOCUMENT_DOWNLOADED: _l("PDF heruntergeladen"),
    AuditAction.ATTACHMENT_DOWNLOADED: _l("Anlage heruntergeladen"),
    AuditAction.DELIVERY_RETRIED: _l("Zustellung wiederholt"),
    AuditAction.SUBMISSION_PURGED: _l("Antrag gelöscht (Aufbewahrungsfrist)"),
    AuditAction.DRAFT_PURGED: _l("Entwurf gelöscht"),
    AuditAction.CONTENT_CREATED: _l("Inhalt angelegt"),
    AuditAction.CONTENT_CHANGED: _l("Inhalt geändert"),
    AuditAction.CONTENT_DELETED: _l("Inhalt gelöscht"),
    AuditAction.CONTENT_STATE_CHANGED: _l("Veröffentlichungsstatus geändert"),
    AuditAction.COMMUNE_CREATED: _l("Kommune angelegt"),
    AuditAction.COMMUNE_CHANGED: _l("Kommune geändert"),
    AuditAction.OFFICE_CREATED: _l("Fachamt angelegt"),
    AuditAction.OFFICE_CHANGED: _l("Fachamt geändert"),
    AuditAction.SERVICE_CHANGED: _l("Dienstleistung geändert"),
    AuditAction.API_CLIENT_CREATED: _l("API-Client angelegt"),
    AuditAction.API_CLIENT_REVOKED: _l("API-Client gesperrt"),
    AuditAction.SUBMISSIONS_LISTED: _l("Anträge abgerufen (API)"),
    AuditAction.INSPECTION_GRANTED: _l("Akteneinsicht gewährt"),
    AuditAction.INSPECTION_REVOKED: _l("Akteneinsicht widerrufen"),
}


class AuditLogImmutable(RuntimeError):
    """Something tried to change or remove an audit entry."""


class AuditEntry(db.Model):
    """One staff action: who, when, what, on which object, in which commune, from where.

    Append-only: the application has no path that changes or deletes an entry; the
    ORM refuses it (listeners below) and PostgreSQL refuses it with a trigger
    (:func:`append_only_statements`). ``actor_email`` is a snapshot, so the entry
    still reads right after the account changes.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_commune_id_id", "commune_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="RESTRICT"), index=True, default=None
    )
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[AuditAction] = mapped_column(_enum(AuditAction, 60), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(120), default="")
    commune_id: Mapped[int | None] = mapped_column(
        ForeignKey("commune.id", ondelete="RESTRICT"), default=None
    )
    client_address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()
    commune: Mapped[Commune | None] = relationship()


def _refuse_change(_mapper: Mapper[Any], _connection: object, target: AuditEntry) -> None:
    raise AuditLogImmutable(f"audit entry {target.id} may not be changed or deleted")


def _refuse_bulk_change(state: ORMExecuteState) -> None:
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper is not None and mapper.class_ is AuditEntry:
        raise AuditLogImmutable("audit entries may not be changed or deleted")


event.listen(AuditEntry, "before_update", _refuse_change)
event.listen(AuditEntry, "before_delete", _refuse_change)
event.listen(Session, "do_orm_execute", _refuse_bulk_change)

_APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_entry is append-only: UPDATE and DELETE are refused'
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""
_APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_entry_append_only
BEFORE UPDATE OR DELETE ON audit_entry
FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()
"""


def append_only_statements() -> list[str]:
    """PostgreSQL DDL that makes ``audit_entry`` refuse UPDATE and DELETE.

    ``create_all`` runs it through the ``after_create`` listener below; an Alembic
    migration calls ``for sql in append_only_statements(): op.execute(sql)`` on
    PostgreSQL after creating the table.
    """
    return [_APPEND_ONLY_FUNCTION.strip(), _APPEND_ONLY_TRIGGER.strip()]


for _statement in append_only_statements():
    event.listen(AuditEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
