"""Writing and reading the audit log.

Every staff action is recorded with :func:`record`, in the same transaction as the
action itself, so an action and its entry are committed or rolled back together.
Views use :func:`app.staff.auth.audit`, which fills in the current user and the
client address; services take an :class:`Origin` from their caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from app.extensions import db
from app.staff.models import AuditAction, AuditEntry, User, normalise_email
from app.timeutil import utcnow

USER_AGENT_LENGTH = 200


@dataclass(frozen=True)
class Origin:
    """Who acts and from where, as the audit log records it.

    ``user`` is the acting staff user; ``email`` names the actor when there is no
    user (a failed login for an unknown address). Command-line and scheduled runs
    leave ``user`` empty and describe themselves in ``user_agent`` (``"cli: users
    create"``).
    """

    user: User | None = None
    email: str = ""
    client_address: str = ""
    user_agent: str = ""

    @classmethod
    def command(cls, name: str) -> Origin:
        """The origin of a ``flask`` command or a scheduled job."""
        return cls(user_agent=f"cli: {name}")


def record(
    action: AuditAction,
    *,
    origin: Origin,
    commune_id: int | None = None,
    object_type: str = "",
    object_id: str | int = "",
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one audit entry to the current transaction and return it.

    ``object_type`` is a short lower-case noun (``"submission"``, ``"user"``,
    ``"page"``); ``object_id`` its id or reference. ``details`` is JSON: keep it to
    what an auditor needs (old and new status, the export format), never answers
    or passwords.
    """
    user = origin.user
    entry = AuditEntry(
        at=at or utcnow(),
        actor_id=user.id if user is not None else None,
        actor_email=(user.email if user is not None else normalise_email(origin.email))[:254],
        action=AuditAction(action),
        object_type=object_type[:40],
        object_id=str(object_id)[:120],
        commune_id=commune_id,
        client_address=origin.client_address[:45],
        user_agent=origin.user_agent[:USER_AGENT_LENGTH],
        details=dict(details or {}),
    )
    db.session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    """What the audit view narrows the log to. ``commune_id=None`` means every commune."""

    commune_id: int | None = None
    action: AuditAction | None = None
    actor_email: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class AuditPage:
    """One page of the log, newest first, with the cursors of its neighbours."""

    entries: list[AuditEntry] = field(default_factory=list)
    newer_cursor: int | None = None
    older_cursor: int | None = None


def _filtered(criteria: AuditFilter) -> Select[tuple[AuditEntry]]:
    stmt = select(AuditEntry)
    if criteria.commune_id is not None:
        stmt = stmt.where(AuditEntry.commune_id == criteria.commune_id)
    if criteria.action is not None:
        stmt = stmt.where(AuditEntry.action == criteria.action)
    if criteria.actor_email:
        prefix = normalise_email(criteria.actor_email).replace("\\", "\\\\")
        prefix = prefix.replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(AuditEntry.actor_email.like(f"{prefix}%", escape="\\"))
    if criteria.since is not None:
        stmt = stmt.where(AuditEntry.at >= criteria.since)
    if criteria.until is not None:
        stmt = stmt.where(AuditEntry.at < criteria.until)
    return stmt


def audit_page(
    criteria: AuditFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = 50,
) -> AuditPage:
    """A page of entries matching ``criteria``, newest first (keyset pagination).

    ``before`` gives the page of entries older than that id, ``after`` the page of
    entries newer than it; neither gives the newest page. Ids only grow, so the order
    by id is the order in time, and each page costs one index range scan however deep.
    """
    stmt = _filtered(criteria)
    if after is not None:
        rows = list(
            db.session.scalars(
                stmt.where(AuditEntry.id > after).order_by(AuditEntry.id.asc()).limit(size + 1)
            )
        )
        has_newer = len(rows) > size
        entries = list(reversed(rows[:size]))
        has_older = True
    else:
        if before is not None:
            stmt = stmt.where(AuditEntry.id < before)
        rows = list(db.session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(size + 1)))
        has_older = len(rows) > size
        entries = rows[:size]
        has_newer = before is not None
    if not entries:
        return AuditPage()
    return AuditPage(
        entries=entries,
        newer_cursor=entries[0].id if has_newer else None,
        older_cursor=entries[-1].id if has_older else None,
    )
