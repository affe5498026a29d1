"""Who may see and do what: the one place that answers it.

Every staff view asks here (through the helpers in :mod:`app.staff.auth`), every
staff query narrows itself with :func:`office_filter`. The rules:

- An association admin sees every commune and may do everything.
- A commune admin sees their commune, every office in it, and may do everything
  there except the association's own business.
- A clerk sees their commune, and of its submissions only those of their offices.
- An editor sees their commune's content, nothing of its submissions.

Only active accounts have any permission.
"""

from __future__ import annotations

import enum

from sqlalchemy import ColumnElement, false, select, true

from app.extensions import db
from app.staff.models import Role, User
from app.tenancy.models import Commune, Office


class Permission(enum.StrEnum):
    """An action a staff user may be allowed in a commune."""

    VIEW_SUBMISSIONS = "view_submissions"  # inbox, detail, attachments, PDF (within office scope)
    PROCESS_SUBMISSIONS = "process_submissions"  # status, assignment, notes, messages
    EXPORT_SUBMISSIONS = "export_submissions"
    EDIT_CONTENT = "edit_content"
    PUBLISH_CONTENT = "publish_content"
    MANAGE_SERVICES = "manage_services"
    MANAGE_OFFICES = "manage_offices"
    MANAGE_USERS = "manage_users"
    MANAGE_COMMUNE = "manage_commune"  # profile, branding, require two-factor
    VIEW_AUDIT = "view_audit"
    MANAGE_ASSOCIATION = "manage_association"  # communes, catalogue, every user


_SUBMISSION_WORK = frozenset(
    {Permission.VIEW_SUBMISSIONS, Permission.PROCESS_SUBMISSIONS, Permission.EXPORT_SUBMISSIONS}
)
_COMMUNE_ADMIN = frozenset(Permission) - {Permission.MANAGE_ASSOCIATION}
_ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ASSOCIATION_ADMIN: frozenset(Permission),
    Role.COMMUNE_ADMIN: _COMMUNE_ADMIN,
    Role.CLERK: _SUBMISSION_WORK,
    Role.EDITOR: frozenset({Permission.EDIT_CONTENT, Permission.PUBLISH_CONTENT}),
}


def _usable(user: User | None) -> bool:
    return isinstance(user, User) and user.active


def is_association_admin(user: User | None) -> bool:
    return _usable(user) and user is not None and user.role is Role.ASSOCIATION_ADMIN


def may_see_commune(user: User | None, commune: Commune) -> bool:
    """Whether the commune exists for this user at all (if not, its URLs answer 404)."""
    if not _usable(user) or user is None:
        return False
    return user.role is Role.ASSOCIATION_ADMIN or user.commune_id == commune.id


def sees_every_office(user: User | None, commune: Commune) -> bool:
    """Whether the user works with the submissions of every office of the commune."""
    if not may_see_commune(user, commune) or user is None:
        return False
    return user.role in (Role.ASSOCIATION_ADMIN, Role.COMMUNE_ADMIN)


def may_see_office(user: User | None, office: Office) -> bool:
    """Whether the user may work with this office's submissions."""
    if user is None or not may_see_commune(user, office.commune):
        return False
    if sees_every_office(user, office.commune):
        return True
    return user.role is Role.CLERK and office.id in user.office_ids


def may(user: User | None, permission: Permission, commune: Commune | None = None) -> bool:
    """Whether the user may do ``permission`` in ``commune``.

    ``commune=None`` asks about the association itself (only association admins). For
    submission permissions the answer is about the commune; which submissions
    follows from :func:`may_see_office` and :func:`office_filter`. Editors may publish
    only where the commune lets editors publish without review.
    """
    if not _usable(user) or user is None:
        return False
    if commune is None:
        return user.role is Role.ASSOCIATION_ADMIN
    if not may_see_commune(user, commune):
        return False
    if permission not in _ROLE_PERMISSIONS[user.role]:
        return False
    if permission is Permission.PUBLISH_CONTENT and user.role is Role.EDITOR:
        return commune.editors_may_publish
    if permission in _SUBMISSION_WORK and user.role is Role.CLERK:
        return bool(user.office_ids)
    return True


def visible_offices(user: User | None, commune: Commune) -> list[Office]:
    """The commune's offices whose submissions the user works with, by name."""
    if sees_every_office(user, commune):
        return list(
            db.session.scalars(select(Office).where(Office.commune_id == commune.id).order_by(Office.name))
        )
    if user is None or not may_see_commune(user, commune) or user.role is not Role.CLERK:
        return []
    return sorted((o for o in user.offices if o.commune_id == commune.id), key=lambda o: o.name)


def office_filter(user: User | None, commune: Commune, office_id: ColumnElement[int]) -> ColumnElement[bool]:
    """A WHERE clause that keeps only rows of offices the user may see.

    ``office_id`` is the office column of the query (``Submission.office_id``). The
    query must still be narrowed to the commune itself; this clause is about offices.
    """
    if sees_every_office(user, commune):
        return true()
    if user is None or not may_see_commune(user, commune) or user.role is not Role.CLERK:
        return false()
    ids = sorted(user.office_ids)
    return office_id.in_(ids) if ids else false()


def visible_communes(user: User | None) -> list[Commune]:
    """The communes the user works in, by name: all for association admins."""
    if not _usable(user) or user is None:
        return []
    if user.role is Role.ASSOCIATION_ADMIN:
        return list(db.session.scalars(select(Commune).order_by(Commune.name)))
    return [user.commune] if user.commune is not None else []


def permissions_in(user: User | None, commune: Commune | None) -> frozenset[Permission]:
    """Every permission the user holds in ``commune`` (for navigation and templates)."""
    return frozenset(p for p in Permission if may(user, p, commune))


def assignable_roles(actor: User | None) -> list[Role]:
    """The roles ``actor`` may give to accounts: every role for association admins,
    the commune roles for commune admins, none for anybody else."""
    if not _usable(actor) or actor is None:
        return []
    if actor.role is Role.ASSOCIATION_ADMIN:
        return list(Role)
    if actor.role is Role.COMMUNE_ADMIN:
        return [Role.COMMUNE_ADMIN, Role.CLERK, Role.EDITOR]
    return []


def may_manage_user(actor: User | None, target: User) -> bool:
    """Whether ``actor`` may change, disable or reset ``target``'s account.

    Association admins manage everyone; commune admins the accounts of their own
    commune except association admins; nobody else anyone (their own password and
    2FA they change on their account page).
    """
    if not _usable(actor) or actor is None:
        return False
    if actor.role is Role.ASSOCIATION_ADMIN:
        return True
    if target.role is Role.ASSOCIATION_ADMIN or target.commune is None:
        return False
    return may(actor, Permission.MANAGE_USERS, target.commune)
