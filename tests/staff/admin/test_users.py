"""Staff accounts of a commune: invitation by e-mail (real SMTP), one-time password link, roles, disable."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from delivery.servers import SmtpRecorder
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.staff.admin.models import Invitation
from app.staff.models import AuditAction, AuditEntry, Role, User
from app.timeutil import utcnow
from staff.builders import log_in, make_user

from .conftest import Place

NEW_PASSWORD = "Ein-langer-Satz-als-Passwort-2026"


def _invite(client: FlaskClient, place: Place, **overrides: object) -> object:
    data: dict[str, object] = {
        "name": "Erika Mustermann",
        "email": "erika@werneuchen.example",
        "role": "clerk",
        "offices": [str(place.buergeramt.id)],
    }
    data.update(overrides)
    return client.post(f"/staff/{place.commune.slug}/users/invite", data=data)


def _link(smtp: SmtpRecorder, count: int = 1) -> str:
    mails = smtp.wait_for(count)
    assert len(mails) >= count
    body = mails[count - 1].message.get_content()
    match = re.search(r"https?://\S+/invitation/(\S+)", body)
    assert match is not None, body
    return "/invitation/" + match.group(1)


@pytest.fixture
def mail(delivery_settings: Flask, smtp_server: SmtpRecorder) -> SmtpRecorder:
    return smtp_server


def test_invitation_end_to_end_with_a_single_use_link(
    client: FlaskClient, place: Place, mail: SmtpRecorder
) -> None:
    log_in(client, place.admin)
    response = _invite(client, place)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "erika@werneuchen.example"))
    assert user is not None and user.password_hash is None and user.role is Role.CLERK
    assert user.commune_id == place.commune.id and user.office_ids == {place.buergeramt.id}
    [message] = mail.wait_for(1)
    assert message.rcpt_tos == ("erika@werneuchen.example",)
    assert "Einladung" in message.message["Subject"]
    link = _link(mail)
    stored = db.session.scalar(select(Invitation).where(Invitation.user_id == user.id))
    assert stored is not None and link.rsplit("/", 1)[1] not in stored.token_hash

    client.post("/staff/logout")
    page = client.get(link)
    assert page.status_code == 200 and "Passwort festlegen" in page.text
    weak = client.post(link, data={"new_password": "kurz", "confirm_password": "kurz"})
    assert "mindestens 12 Zeichen" in weak.text
    done = client.post(link, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 302 and done.location.endswith("/staff/login")
    assert client.get(link).status_code == 410
    again = client.post(
        link, data={"new_password": NEW_PASSWORD + "x", "confirm_password": NEW_PASSWORD + "x"}
    )
    assert again.status_code == 410

    login = log_in(client, user, password=NEW_PASSWORD)
    assert login.status_code == 302 and login.location.endswith("/staff/")
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(user.id))))
    assert {AuditAction.USER_CREATED, AuditAction.USER_INVITED, AuditAction.PASSWORD_CHANGED} <= actions


def test_an_expired_invitation_link_no_longer_works(
    client: FlaskClient, place: Place, mail: SmtpRecorder
) -> None:
    log_in(client, place.admin)
    _invite(client, place)
    link = _link(mail)
    invitation = db.session.scalar(select(Invitation))
    assert invitation is not None
    assert invitation.expires_at - invitation.created_at == timedelta(hours=72)
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    client.post("/staff/logout")
    assert client.get(link).status_code == 410
    assert client.get("/invitation/erfunden").status_code == 410


def test_a_new_invitation_voids_the_earlier_link(
    client: FlaskClient, place: Place, mail: SmtpRecorder
) -> None:
    log_in(client, place.admin)
    _invite(client, place)
    first = _link(mail)
    user = db.session.scalar(select(User).where(User.email == "erika@werneuchen.example"))
    assert user is not None
    assert client.post(f"/staff/werneuchen/users/{user.id}/invitation").status_code == 302
    second = _link(mail, 2)
    client.post("/staff/logout")
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_a_commune_admin_may_not_invite_an_association_admin_or_use_foreign_offices(
    client: FlaskClient, place: Place, foreign: Place, mail: SmtpRecorder
) -> None:
    log_in(client, place.admin)
    boss = _invite(client, place, role="association_admin", offices=[])
    assert boss.status_code == 200 and "Fehler:" in boss.text
    foreign_office = _invite(client, place, offices=[str(foreign.buergeramt.id)])
    assert foreign_office.status_code == 200
    taken = _invite(client, place, email=foreign.admin.email)
    assert "Es gibt bereits ein Konto mit dieser E-Mail-Adresse." in taken.text
    assert db.session.scalar(select(User).where(User.email == "erika@werneuchen.example")) is None
    assert mail.wait_for(1, timeout=0.3) == []


def test_admin_changes_role_and_offices_within_the_commune(client: FlaskClient, place: Place) -> None:
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.buergeramt])
    log_in(client, place.admin)
    page = client.get(f"/staff/werneuchen/users/{clerk.id}")
    assert 'value="association_admin"' not in page.text
    response = client.post(
        f"/staff/werneuchen/users/{clerk.id}",
        data={"name": "Neu Name", "role": "editor", "offices": [str(place.kaemmerei.id)]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert clerk.name == "Neu Name" and clerk.role is Role.EDITOR and clerk.office_ids == {place.kaemmerei.id}
    refused = client.post(
        f"/staff/werneuchen/users/{clerk.id}", data={"name": "X", "role": "association_admin"}
    )
    assert refused.status_code == 200
    db.session.expire_all()
    assert clerk.role is Role.EDITOR and clerk.commune_id == place.commune.id


def test_disabling_an_account_ends_its_sessions(app: Flask, place: Place) -> None:
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.buergeramt])
    admin_client, clerk_client = app.test_client(), app.test_client()
    log_in(clerk_client, clerk)
    assert clerk_client.get("/staff/").status_code == 200
    log_in(admin_client, place.admin)
    assert (
        admin_client.post(f"/staff/werneuchen/users/{clerk.id}/active", data={"active": "0"}).status_code
        == 302
    )
    db.session.expire_all()
    assert not clerk.active
    assert clerk_client.get("/staff/").status_code == 302
    assert log_in(clerk_client, clerk).status_code == 200  # the login form again, with an error
    assert (
        admin_client.post(f"/staff/werneuchen/users/{clerk.id}/active", data={"active": "1"}).status_code
        == 302
    )
    db.session.expire_all()
    assert clerk.active


def test_an_admin_cannot_disable_themself(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    client.post(f"/staff/werneuchen/users/{place.admin.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert place.admin.active


def test_a_commune_admin_never_touches_another_communes_users_or_association_admins(
    client: FlaskClient, place: Place, foreign: Place
) -> None:
    boss = make_user(Role.ASSOCIATION_ADMIN)
    log_in(client, place.admin)
    assert client.get("/staff/bernau/users").status_code == 404
    assert client.get(f"/staff/werneuchen/users/{foreign.admin.id}").status_code == 404
    assert (
        client.post(f"/staff/werneuchen/users/{foreign.admin.id}/active", data={"active": "0"}).status_code
        == 404
    )
    assert client.post(f"/staff/werneuchen/users/{boss.id}/active", data={"active": "0"}).status_code == 404
    db.session.expire_all()
    assert foreign.admin.active and boss.active


def test_clerks_and_editors_cannot_manage_users(client: FlaskClient, place: Place) -> None:
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.buergeramt])
    editor = make_user(Role.EDITOR, commune=place.commune)
    for user in (clerk, editor):
        client.post("/staff/logout")
        log_in(client, user)
        assert client.get("/staff/werneuchen/users").status_code == 403
        assert _invite(client, place).status_code == 403
        assert (
            client.post(f"/staff/werneuchen/users/{place.admin.id}/active", data={"active": "0"}).status_code
            == 403
        )


def test_an_admin_cannot_change_their_own_role(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    page = client.post(f"/staff/werneuchen/users/{place.admin.id}", data={"name": "Ich", "role": "editor"})
    assert "Ihre eigene Rolle können Sie nicht ändern." in page.text
    db.session.expire_all()
    assert place.admin.role is Role.COMMUNE_ADMIN
