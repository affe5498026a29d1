"""The cafeteria choice: a commune admin switches catalogue services on, routes and delivers them."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from delivery.conftest import WEBHOOK_SECRET
from delivery.servers import HttpRecorder
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.catalogue.models import CommuneService
from app.catalogue.services import get_offered_service
from app.delivery.channels import sign_webhook
from app.extensions import db
from app.staff.admin.webhooks import WebhookUrlError, check_target_url
from app.staff.models import AuditAction, AuditEntry, Role
from staff.builders import log_in, make_user

from .conftest import Place


def _choice(place: Place, slug: str) -> CommuneService | None:
    db.session.expire_all()
    return db.session.scalar(
        select(CommuneService).where(
            CommuneService.commune_id == place.commune.id, CommuneService.service_slug == slug
        )
    )


def _settings(**overrides: str) -> dict[str, str]:
    data = {"enabled": "y", "office": "", "deliver_by_email": "y", "email_to": "", "webhook_url": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_catalogue_lists_every_service_by_topic_with_a_suggested_office(
    client: FlaskClient, place: Place
) -> None:
    log_in(client, place.admin)
    page = client.get("/staff/werneuchen/services")
    assert page.status_code == 200
    assert "Hund anmelden (Hundesteuer)" in page.text
    assert "Steuern und Abgaben" in page.text
    assert "Vorschlag: Kämmerei" in page.text


def test_switching_on_a_service_routes_it_to_the_chosen_office(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    form = client.get("/staff/werneuchen/services/hund-anmelden")
    assert "Dienst einschalten" in form.text and "Empfangendes Amt" in form.text
    assert f'<option value="{place.kaemmerei.id}" selected>' in form.text  # the suggestion
    response = client.post(
        "/staff/werneuchen/services/hund-anmelden",
        data=_settings(office=str(place.kaemmerei.id), retention_days="90", fee_override="12,50"),
    )
    assert response.status_code == 302
    choice = _choice(place, "hund-anmelden")
    assert choice is not None and choice.enabled and choice.office_id == place.kaemmerei.id
    assert choice.retention_days == 90 and choice.fee_override == Decimal("12.50")
    offered = get_offered_service(place.commune, "hund-anmelden")
    assert offered is not None and offered.online
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.SERVICE_CHANGED))
    assert entry is not None and entry.object_id == "hund-anmelden" and entry.commune_id == place.commune.id

    client.post(
        "/staff/werneuchen/services/hund-anmelden",
        data=_settings(enabled=None, office=str(place.kaemmerei.id)),
    )
    choice = _choice(place, "hund-anmelden")
    assert choice is not None and not choice.enabled
    assert get_offered_service(place.commune, "hund-anmelden") is None


def test_an_online_service_needs_an_office_of_this_commune(
    client: FlaskClient, place: Place, foreign: Place
) -> None:
    log_in(client, place.admin)
    missing = client.post("/staff/werneuchen/services/hund-anmelden", data=_settings(office="0"))
    assert missing.status_code == 200
    assert "Bitte wählen Sie das Fachamt, das die Anträge empfängt." in missing.text
    stolen = client.post(
        "/staff/werneuchen/services/hund-anmelden", data=_settings(office=str(foreign.kaemmerei.id))
    )
    assert stolen.status_code == 200 and "Fehler:" in stolen.text
    assert _choice(place, "hund-anmelden") is None


def test_information_only_services_are_listed_without_office_or_channels(
    client: FlaskClient, place: Place
) -> None:
    log_in(client, place.admin)
    page = client.get("/staff/werneuchen/services/e-rechnung")
    assert "Empfangendes Amt" not in page.text
    response = client.post("/staff/werneuchen/services/e-rechnung", data={"enabled": "y"})
    assert response.status_code == 302
    choice = _choice(place, "e-rechnung")
    assert choice is not None and choice.enabled and choice.office_id is None and choice.webhook_url is None


def test_webhook_url_must_be_http_and_not_the_portal_itself(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    url = "/staff/werneuchen/services/hund-anmelden"
    office = str(place.kaemmerei.id)
    for bad in ("ftp://example.org/hook", "javascript:alert(1)", "file:///etc/passwd"):
        page = client.post(url, data=_settings(office=office, webhook_url=bad, webhook_secret=WEBHOOK_SECRET))
        assert "Die Webhook-Adresse muss mit http:// oder https:// beginnen." in page.text
    own = client.post(
        url,
        data=_settings(office=office, webhook_url="http://localhost/staff/", webhook_secret=WEBHOOK_SECRET),
    )
    assert "Die Webhook-Adresse darf nicht auf das Portal selbst zeigen." in own.text
    assert _choice(place, "hund-anmelden") is None


def test_webhook_url_may_not_point_at_internal_addresses_in_production(
    client: FlaskClient, place: Place, app: Flask, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "PORTAL_ENV", "production")
    log_in(client, place.admin)
    for target in ("https://127.0.0.1:8443/hook", "https://10.1.2.3/hook", "https://169.254.169.254/latest"):
        page = client.post(
            "/staff/werneuchen/services/hund-anmelden",
            data=_settings(office=str(place.kaemmerei.id), webhook_url=target, webhook_secret=WEBHOOK_SECRET),
        )
        assert "erlaubt sind nur öffentlich erreichbare Adressen" in page.text, target


def test_test_delivery_posts_a_signed_test_payload_and_shows_the_answer(
    client: FlaskClient, place: Place, webhook_receiver: HttpRecorder
) -> None:
    log_in(client, place.admin)
    url = "/staff/werneuchen/services/hund-anmelden"
    saved = client.post(
        url,
        data=_settings(
            office=str(place.kaemmerei.id),
            webhook_url=webhook_receiver.url + "/hook",
            webhook_secret=WEBHOOK_SECRET,
        ),
    )
    assert saved.status_code == 302
    choice = _choice(place, "hund-anmelden")
    assert choice is not None and choice.webhook_secret == WEBHOOK_SECRET

    page = client.post(url + "/test-delivery")
    assert page.status_code == 200
    assert "Der Empfänger antwortete mit HTTP 200." in page.text
    [received] = webhook_receiver.wait_for(1)
    assert received.path == "/hook"
    payload = json.loads(received.body)
    assert payload["type"] == "test" and payload["service"]["slug"] == "hund-anmelden"
    signature = sign_webhook(WEBHOOK_SECRET, received.headers["callback-timestamp"], received.body)
    assert received.headers["callback-authentication"] == signature

    webhook_receiver.fail_next(1, status=503)
    failed = client.post(url + "/test-delivery")
    assert "Der Empfänger antwortete mit HTTP 503." in failed.text


def test_saving_without_a_new_secret_keeps_the_stored_one(
    client: FlaskClient, place: Place, webhook_receiver: HttpRecorder
) -> None:
    log_in(client, place.admin)
    url = "/staff/werneuchen/services/hund-anmelden"
    office = str(place.kaemmerei.id)
    client.post(
        url, data=_settings(office=office, webhook_url=webhook_receiver.url, webhook_secret=WEBHOOK_SECRET)
    )
    client.post(url, data=_settings(office=office, webhook_url=webhook_receiver.url, webhook_secret=""))
    choice = _choice(place, "hund-anmelden")
    assert choice is not None and choice.webhook_secret == WEBHOOK_SECRET


def test_preview_shows_the_steps_without_creating_a_draft(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    page = client.get("/staff/werneuchen/services/hund-anmelden/preview")
    assert page.status_code == 200
    assert '<fieldset class="fieldset" disabled>' in page.text
    assert "<form" not in page.text.split("<main", 1)[1].split("</main>")[0]


def test_only_commune_admins_of_this_commune_reach_the_services(
    client: FlaskClient, place: Place, foreign: Place
) -> None:
    clerk = make_user(Role.CLERK, commune=place.commune, offices=[place.kaemmerei])
    editor = make_user(Role.EDITOR, commune=place.commune)
    for user, status in ((clerk, 403), (editor, 403), (foreign.admin, 404)):
        client.post("/staff/logout")
        log_in(client, user)
        assert client.get("/staff/werneuchen/services").status_code == status
        assert client.post("/staff/werneuchen/services/hund-anmelden", data=_settings()).status_code == status
    assert _choice(place, "hund-anmelden") is None


def test_a_commune_admin_cannot_change_the_catalogue_itself(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    assert client.get("/staff/werneuchen/services/no-such-service").status_code == 404
    assert client.get("/staff/association/services").status_code == 404


def test_webhook_url_check_knows_the_public_base_url_and_ports() -> None:
    hosts = ["127.0.0.1:5000", "https://portal.example"]
    for own in ("https://portal.example/hook", "https://PORTAL.example:443/x", "http://127.0.0.1:5000/hook"):
        with pytest.raises(WebhookUrlError):
            check_target_url(own, portal_hosts=hosts, production=False)
    assert check_target_url(" http://127.0.0.1:5001/hook ", portal_hosts=hosts, production=False) == (
        "http://127.0.0.1:5001/hook"
    )
    with pytest.raises(WebhookUrlError):
        check_target_url("https://user:pw@example.org/hook", portal_hosts=hosts, production=False)
    with pytest.raises(WebhookUrlError):
        check_target_url("http://example.org/hook", portal_hosts=hosts, production=True)


def test_a_fee_that_is_no_amount_gets_a_message(client: FlaskClient, place: Place) -> None:
    log_in(client, place.admin)
    page = client.post(
        "/staff/werneuchen/services/hund-anmelden",
        data=_settings(office=str(place.kaemmerei.id), fee_override="zwölf"),
    )
    assert "Bitte geben Sie einen Betrag in Euro an, z. B. 12,50." in page.text
    assert _choice(place, "hund-anmelden") is None


def test_the_webhook_secret_is_stored_encrypted_never_shown_and_kept_as_stored_on_save(
    client: FlaskClient,
    place: Place,
    webhook_receiver: HttpRecorder,
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log_in(client, place.admin)
    url = "/staff/werneuchen/services/hund-anmelden"
    office = str(place.kaemmerei.id)
    client.post(
        url, data=_settings(office=office, webhook_url=webhook_receiver.url, webhook_secret=WEBHOOK_SECRET)
    )
    choice = _choice(place, "hund-anmelden")
    assert choice is not None and choice.webhook_secret == WEBHOOK_SECRET
    stored = choice.webhook_secret_stored
    assert stored is not None and WEBHOOK_SECRET not in stored

    # Keys that no longer open the secret: the page and a save without a new secret still work.
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", [Fernet.generate_key().decode()])
    page = client.get(url)
    assert page.status_code == 200
    assert "Ein Schlüssel ist gespeichert." in page.text
    assert WEBHOOK_SECRET not in page.text and stored not in page.text
    keep = _settings(office=office, webhook_url=webhook_receiver.url, webhook_secret="")
    saved = client.post(url, data=keep)
    assert saved.status_code == 302
    choice = _choice(place, "hund-anmelden")
    assert choice is not None and choice.webhook_secret_stored == stored
