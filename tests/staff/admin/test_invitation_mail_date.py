"""The invitation e-mail is German (staff accounts name no language), with the deadline
written by Babel's German patterns whatever language the inviting admin's screen shows."""

from __future__ import annotations

from datetime import UTC, datetime

from babel.dates import format_date, format_time
from flask import Flask

from app.staff.admin.services import _invitation_mail
from app.staff.models import Role, User
from app.timeutil import to_berlin

EXPIRES = datetime(2026, 5, 16, 10, 0, tzinfo=UTC)  # 12:00 in Berlin (summer time)


def test_invitation_deadline_is_written_the_german_way(app: Flask) -> None:
    user = User(email="neu@example.org", name="Nora Neu", role=Role.ASSOCIATION_ADMIN, commune=None)
    with app.test_request_context("/?lang=pl"):
        subject, body = _invitation_mail(user, "https://portal.example/invitation/abc", "Ada Admin", EXPIRES)
    local = to_berlin(EXPIRES)
    day = format_date(local.date(), "long", locale="de")
    deadline = f"{day}, {format_time(local.time(), 'short', locale='de')}"
    assert f"Der Link ist bis {deadline} gültig" in body
    assert "16.05.2026" not in body and "Uhr" not in body.split("gültig")[0].split("bis")[-1]
    assert subject.startswith("Einladung in den Mitarbeiterbereich")
