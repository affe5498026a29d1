"""The administration's entries in the staff navigation.

Called once when the ``staff_admin`` blueprint is registered (see ``views.py``), since
this sub-package is not a feature of its own in :data:`app.FEATURES`.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from app.staff.navigation import StaffSection, add_staff_section
from app.staff.permissions import Permission


def init_app(app: Flask) -> None:
    """Announce the commune's and the association's administration sections."""
    for section in (
        StaffSection("staff_admin.service_list", _l("Dienste"), Permission.MANAGE_SERVICES, order=40),
        StaffSection("staff_admin.offices", _l("Fachämter"), Permission.MANAGE_OFFICES, order=50),
        StaffSection("staff_admin.users", _l("Beschäftigte"), Permission.MANAGE_USERS, order=60),
        StaffSection("staff_admin.settings", _l("Einstellungen"), Permission.MANAGE_COMMUNE, order=70),
        StaffSection(
            "staff_association.communes",
            _l("Kommunen"),
            Permission.MANAGE_ASSOCIATION,
            order=10,
            association=True,
        ),
        StaffSection(
            "staff_association.matrix",
            _l("Dienste aller Kommunen"),
            Permission.MANAGE_ASSOCIATION,
            order=20,
            association=True,
        ),
        StaffSection(
            "staff_association.all_users",
            _l("Alle Beschäftigten"),
            Permission.MANAGE_ASSOCIATION,
            order=30,
            association=True,
        ),
    ):
        add_staff_section(app, section)
