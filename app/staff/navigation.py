"""The sections of the staff workspace, as the navigation and the dashboard link them.

Each staff feature announces its entry page once, from its ``setup.init_app``::

    from app.staff.navigation import StaffSection, add_staff_section

    add_staff_section(app, StaffSection("staff_inbox.inbox", _l("Posteingang"),
                                        Permission.VIEW_SUBMISSIONS, order=10))

A commune section's endpoint takes ``commune`` (the slug); an association section's
takes nothing. A section is shown only when its endpoint is registered and the user
holds its permission in the commune (association sections: association admins).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from app.staff import permissions
from app.staff.models import User
from app.staff.permissions import Permission
from app.tenancy.models import Commune

EXTENSION_KEY = "staff_sections"


@dataclass(frozen=True)
class StaffSection:
    """One entry of the staff navigation."""

    endpoint: str
    label: str | LazyString
    permission: Permission
    order: int = 100
    association: bool = False


@dataclass(frozen=True)
class SectionLink:
    """A section as a link: its label, its URL and its endpoint (to mark the current page)."""

    label: str
    url: str
    endpoint: str


def add_staff_section(app: Flask, section: StaffSection) -> None:
    """Announce a section of the staff workspace (once per application)."""
    sections: list[StaffSection] = app.extensions.setdefault(EXTENSION_KEY, [])
    if all(existing.endpoint != section.endpoint for existing in sections):
        sections.append(section)
        sections.sort(key=lambda s: (s.order, s.endpoint))


def _sections() -> list[StaffSection]:
    return [
        s for s in current_app.extensions.get(EXTENSION_KEY, []) if s.endpoint in current_app.view_functions
    ]


def commune_links(user: User | None, commune: Commune) -> list[SectionLink]:
    """The sections of ``commune`` the user may open."""
    return [
        SectionLink(str(s.label), url_for(s.endpoint, commune=commune.slug), s.endpoint)
        for s in _sections()
        if not s.association and permissions.may(user, s.permission, commune)
    ]


def association_links(user: User | None) -> list[SectionLink]:
    """The association-wide sections, for association admins only."""
    if not permissions.is_association_admin(user):
        return []
    return [SectionLink(str(s.label), url_for(s.endpoint), s.endpoint) for s in _sections() if s.association]


def init_app(app: Flask) -> None:
    """The sections this package provides, and the inbox's, which appears once it exists."""
    add_staff_section(
        app, StaffSection("staff_inbox.inbox", _l("Posteingang"), Permission.VIEW_SUBMISSIONS, order=10)
    )
    add_staff_section(
        app, StaffSection("staff.commune_audit", _l("Protokoll"), Permission.VIEW_AUDIT, order=90)
    )
    add_staff_section(
        app,
        StaffSection(
            "staff.association_audit",
            _l("Protokoll aller Kommunen"),
            Permission.MANAGE_ASSOCIATION,
            order=90,
            association=True,
        ),
    )
