"""Demo staff accounts: one association admin; per demo commune one admin, one editor
and one clerk per office. All share :data:`DEMO_PASSWORD`.

Only in DEMO_MODE, also under ``portal demo --force``: a known password must never
reach an instance that is not a demo. Accounts that exist are left alone, so it can run any number of
times; communes or offices that the tenancy demo has not created yet are skipped.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.staff import passwords, services
from app.staff.audit import Origin
from app.staff.models import Role, User
from app.tenancy.demo import DEMO_COMMUNES
from app.tenancy.models import Commune, Office
from app.timeutil import utcnow

DEMO_PASSWORD = "demo-Passwort-2026!"
ASSOCIATION_ADMIN_EMAIL = "verband@dkb.example"


def _ensure(
    lines: list[str],
    password_hash: str,
    *,
    email: str,
    name: str,
    role: Role,
    commune: Commune | None = None,
    offices: list[Office] | None = None,
) -> None:
    if services.find_user(email) is not None:
        return
    user: User = services.create_user(
        email=email,
        name=name,
        role=role,
        commune=commune,
        offices=offices or [],
        origin=Origin.command("portal demo"),
    )
    user.password_hash = password_hash
    user.password_changed_at = utcnow()
    where = f" – {commune.name}" if commune else ""
    office_names = f" ({', '.join(o.name for o in offices)})" if offices else ""
    lines.append(f"{role.label}{where}{office_names}: {email}")


def load_demo() -> list[str]:
    """Create the demo accounts that are missing; returns what it did and the logins."""
    if not current_app.config.get("DEMO_MODE"):
        return ["DEMO_MODE ist aus – keine Demo-Konten angelegt"]
    passwords.check_password_policy(DEMO_PASSWORD)
    password_hash = passwords.hash_password(DEMO_PASSWORD)
    lines: list[str] = []
    _ensure(
        lines,
        password_hash,
        email=ASSOCIATION_ADMIN_EMAIL,
        name="Vera Verband",
        role=Role.ASSOCIATION_ADMIN,
    )
    for demo in DEMO_COMMUNES:
        commune = db.session.scalar(select(Commune).where(Commune.slug == demo.slug))
        if commune is None:
            lines.append(f"Kommune {demo.slug} fehlt, keine Konten angelegt")
            continue
        domain = demo.mail_domain
        _ensure(
            lines,
            password_hash,
            email=f"admin@{domain}",
            name=f"Administration {commune.name}",
            role=Role.COMMUNE_ADMIN,
            commune=commune,
        )
        _ensure(
            lines,
            password_hash,
            email=f"redaktion@{domain}",
            name=f"Redaktion {commune.name}",
            role=Role.EDITOR,
            commune=commune,
        )
        offices = db.session.scalars(
            select(Office).where(Office.commune_id == commune.id).order_by(Office.slug)
        )
        for office in offices:
            _ensure(
                lines,
                password_hash,
                email=f"{office.slug}.sachbearbeitung@{domain}",
                name=f"Sachbearbeitung {office.name} {commune.name}",
                role=Role.CLERK,
                commune=commune,
                offices=[office],
            )
    db.session.commit()
    if lines:
        lines.append(f"Passwort aller Demo-Konten: {DEMO_PASSWORD}")
    else:
        lines.append(f"Demo-Konten vorhanden (Passwort: {DEMO_PASSWORD})")
    return lines
