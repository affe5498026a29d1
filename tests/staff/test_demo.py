"""The demo accounts."""

from __future__ import annotations

from flask import Config, Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.staff import demo
from app.staff.models import Role, User
from app.tenancy import demo as tenancy_demo
from app.tenancy.models import Office


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def test_demo_creates_admins_editors_and_a_clerk_per_office_once(
    app: Flask, app_config: Config, client: FlaskClient
) -> None:
    app_config["DEMO_MODE"] = True
    tenancy_demo.load_demo()
    offices = db.session.scalar(select(func.count()).select_from(Office)) or 0
    communes = len(tenancy_demo.DEMO_COMMUNES)
    lines = demo.load_demo()
    assert _count() == 1 + 2 * communes + offices
    assert any(demo.DEMO_PASSWORD in line for line in lines)
    assert any("admin@werneuchen.example" in line for line in lines)
    clerk = db.session.scalar(
        select(User).where(User.email == "buergeramt.sachbearbeitung@werneuchen.example")
    )
    assert (
        clerk is not None and clerk.role is Role.CLERK and [o.slug for o in clerk.offices] == ["buergeramt"]
    )
    assert demo.load_demo() and _count() == 1 + 2 * communes + offices
    response = client.post("/staff/login", data={"email": clerk.email, "password": demo.DEMO_PASSWORD})
    assert response.headers["Location"] == "/staff/"


def test_demo_without_communes_creates_only_the_association_admin(app_config: Config) -> None:
    app_config["DEMO_MODE"] = True
    lines = demo.load_demo()
    assert _count() == 1
    assert any("fehlt" in line for line in lines)


def test_demo_does_nothing_outside_demo_mode(app_config: Config) -> None:
    app_config["DEMO_MODE"] = False
    lines = demo.load_demo()
    assert _count() == 0
    assert "DEMO_MODE" in lines[0]
