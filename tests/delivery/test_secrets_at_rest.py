"""Webhook signing secrets are stored encrypted under DATA_ENCRYPTION_KEYS; receivers notice nothing.

Both copies are encrypted: the commune service's ``webhook_secret`` and the one
kept with each webhook delivery. Secrets stored in clear text before encryption
still sign, and ``flask portal reencrypt`` encrypts them and moves them to a new key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

import pytest
from cryptography.fernet import Fernet
from factories import make_commune, make_office
from flask import Flask
from sqlalchemy import Column, select, update

from app.catalogue.models import CommuneService
from app.delivery.models import Delivery, DeliveryState
from app.delivery.worker import process_due
from app.extensions import db
from delivery.builders import submit
from delivery.conftest import WEBHOOK_SECRET
from delivery.servers import HttpRecorder, ReceivedRequest

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()

_service_secret = CommuneService.__table__.c.webhook_secret
_delivery_secret = Delivery.__table__.c.signing_secret


@pytest.fixture
def keys(delivery_settings: Flask, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setitem(delivery_settings.config, "DATA_ENCRYPTION_KEYS", [OLD_KEY])
    return delivery_settings.config


def _stored(column: Column[str], row_id: int) -> str:
    """The value in the database column, as a backup or a database dump holds it."""
    db.session.commit()
    value = db.session.execute(select(column).where(column.table.c.id == row_id)).scalar_one()
    assert isinstance(value, str)
    return value


def _store_clear_text(column: Column[str], row_id: int, secret: str) -> None:
    """Write the column as the portal did before secrets were encrypted."""
    db.session.execute(update(column.table).where(column.table.c.id == row_id).values({column.name: secret}))
    db.session.commit()
    db.session.expire_all()


def _opens(key: str, stored: str) -> str:
    return Fernet(key.encode()).decrypt(stored.encode()).decode()


def _service(url: str) -> CommuneService:
    commune = make_commune(name="Werneuchen")
    office = make_office(commune, name="Ordnungsamt", email="ordnungsamt@werneuchen.example")
    choice = CommuneService(
        commune_id=commune.id,
        service_slug="hundesteuer",
        office_id=office.id,
        deliver_by_email=False,
        webhook_url=url,
        webhook_secret=WEBHOOK_SECRET,
    )
    db.session.add(choice)
    db.session.commit()
    return choice


def _submit(choice: CommuneService) -> Delivery:
    _, [delivery] = submit(choice, commune=choice.commune, office=choice.office)
    return delivery


def _signed_with(request: ReceivedRequest, secret: str) -> bool:
    """Whether the receiver, holding ``secret``, accepts the request's signature."""
    timestamp = request.headers["callback-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha512).hexdigest()
    return hmac.compare_digest(request.headers["callback-authentication"], expected)


def _reencrypt(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["portal", "reencrypt"])
    assert result.exit_code == 0, result.output
    return result.output


def test_columns_hold_no_clear_secret_and_the_receiver_verifies_with_the_clear_one(
    keys: dict[str, Any], webhook_receiver: HttpRecorder
) -> None:
    choice = _service(webhook_receiver.url)
    delivery = _submit(choice)

    for column, row_id in ((_service_secret, choice.id), (_delivery_secret, delivery.id)):
        stored = _stored(column, row_id)
        assert WEBHOOK_SECRET not in stored
        assert _opens(OLD_KEY, stored) == WEBHOOK_SECRET
    assert _stored(_service_secret, choice.id) != _stored(_delivery_secret, delivery.id)

    [outcome] = process_due()
    assert outcome.state is DeliveryState.DELIVERED
    [request] = webhook_receiver.wait_for(1)
    assert _signed_with(request, WEBHOOK_SECRET)


def test_clear_text_secrets_of_old_still_sign_and_reencrypt_upgrades_them(
    keys: dict[str, Any], webhook_receiver: HttpRecorder, app: Flask
) -> None:
    choice = _service(webhook_receiver.url)
    waiting = _submit(choice)
    _store_clear_text(_service_secret, choice.id, WEBHOOK_SECRET)
    _store_clear_text(_delivery_secret, waiting.id, WEBHOOK_SECRET)
    # A submission made before the upgrade is reencrypted, and one made after it.
    later = _submit(choice)
    assert _opens(OLD_KEY, _stored(_delivery_secret, later.id)) == WEBHOOK_SECRET

    output = _reencrypt(app)

    assert "commune_service.webhook_secret: 1 von 1 neu verschlüsselt." in output
    assert "delivery.signing_secret: 1 von 2 neu verschlüsselt." in output
    for column, row_id in ((_service_secret, choice.id), (_delivery_secret, waiting.id)):
        assert _opens(OLD_KEY, _stored(column, row_id)) == WEBHOOK_SECRET
    outcomes = process_due()
    assert [o.state for o in outcomes] == [DeliveryState.DELIVERED] * 2
    requests = webhook_receiver.wait_for(2)
    assert all(_signed_with(r, WEBHOOK_SECRET) for r in requests)
    assert "webhook_secret: 0 von 1" in _reencrypt(app)


def test_a_clear_text_delivery_secret_of_old_signs_before_the_command_runs(
    keys: dict[str, Any], webhook_receiver: HttpRecorder
) -> None:
    delivery = _submit(_service(webhook_receiver.url))
    _store_clear_text(_delivery_secret, delivery.id, WEBHOOK_SECRET)

    [outcome] = process_due()

    assert outcome.state is DeliveryState.DELIVERED
    [request] = webhook_receiver.wait_for(1)
    assert _signed_with(request, WEBHOOK_SECRET)


def test_rotation_moves_both_secrets_to_the_new_key_and_the_old_key_can_go(
    keys: dict[str, Any], webhook_receiver: HttpRecorder, app: Flask
) -> None:
    choice = _service(webhook_receiver.url)
    waiting = _submit(choice)

    keys["DATA_ENCRYPTION_KEYS"] = [NEW_KEY, OLD_KEY]
    db.session.expire_all()
    assert choice.webhook_secret == WEBHOOK_SECRET
    output = _reencrypt(app)
    assert "commune_service.webhook_secret: 1 von 1 neu verschlüsselt." in output
    assert "delivery.signing_secret: 1 von 1 neu verschlüsselt." in output
    assert _opens(NEW_KEY, _stored(_service_secret, choice.id)) == WEBHOOK_SECRET
    assert _opens(NEW_KEY, _stored(_delivery_secret, waiting.id)) == WEBHOOK_SECRET

    keys["DATA_ENCRYPTION_KEYS"] = [NEW_KEY]
    db.session.expire_all()
    later = _submit(choice)
    outcomes = process_due()
    assert {o.delivery_id for o in outcomes} == {waiting.id, later.id}
    assert all(o.state is DeliveryState.DELIVERED for o in outcomes)
    assert all(_signed_with(r, WEBHOOK_SECRET) for r in webhook_receiver.wait_for(2))


def test_a_webhook_secret_no_key_opens_does_not_fail_the_submission_and_is_reported(
    keys: dict[str, Any], webhook_receiver: HttpRecorder, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    choice = _service(webhook_receiver.url)
    keys["DATA_ENCRYPTION_KEYS"] = [NEW_KEY]
    db.session.expire_all()

    with caplog.at_level(logging.ERROR, logger="app.delivery.services"):
        delivery = _submit(choice)
    assert any("cannot be decrypted" in r.getMessage() for r in caplog.records)
    [outcome] = process_due()
    assert outcome.state is DeliveryState.FAILED
    assert outcome.error == "Für den Webhook ist kein Schlüssel zum Signieren hinterlegt."
    assert webhook_receiver.requests == []
    assert db.session.get(Delivery, delivery.id) is not None

    result = app.test_cli_runner().invoke(args=["portal", "reencrypt"])
    assert result.exit_code == 1
    assert f"commune_service.webhook_secret id {choice.id}" in result.output
