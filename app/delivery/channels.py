"""The two ways a submission reaches an office, e-mail and webhook, and the citizen's confirmation.

Both work on a :class:`Parcel`, a plain snapshot of everything a delivery
carries, taken from the database before sending so that no transaction is held
open while talking to the outside world.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote, urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from app.delivery import outbound
from app.delivery.errors import DeliveryError, PermanentDeliveryError
from app.delivery.mail import MailAttachment, compose_mail, deliver_message, sender_domain
from app.storage import blob_store
from app.timeutil import to_berlin


@dataclass(frozen=True)
class ParcelAttachment:
    """One uploaded file of the submission."""

    id: int
    filename: str
    media_type: str
    size: int
    sha256: str
    storage_key: str | None


@dataclass(frozen=True)
class Parcel:
    """What one delivery carries, read from the database in one go."""

    delivery_id: int
    idempotency_key: str
    channel: str
    target: str
    signing_secret: str | None
    reference: str
    service_slug: str
    service_title: str
    commune_slug: str
    commune_name: str
    office_id: int
    office_name: str
    submitted_at: datetime
    status: str
    answers: dict[str, Any]
    submitter_name: str
    submitter_email: str
    pdf_key: str
    pdf_sha256: str | None
    attachments: tuple[ParcelAttachment, ...] = field(default=())
    #: The delivery's decrypted payload (the citizen's confirmation message), if it has one.
    payload: str | None = None


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def answers_json(answers: dict[str, Any]) -> bytes:
    """The answers as the ``data.json`` file attached to the e-mail."""
    return json.dumps(answers, ensure_ascii=False, indent=2, default=_json_default).encode()


def public_url(path: str) -> str:
    """An absolute URL under ``PUBLIC_BASE_URL``; a webhook's links are useless without it."""
    base = current_app.config.get("PUBLIC_BASE_URL", "")
    if not base:
        raise PermanentDeliveryError(
            _("PUBLIC_BASE_URL ist nicht gesetzt; ohne sie lassen sich keine Links bilden.")
        )
    return base + path


def submission_paths(parcel: Parcel) -> dict[str, Any]:
    """Where the staff workspace serves the submission and its files (paths, not URLs)."""
    staff_view = f"/staff/{quote(parcel.commune_slug)}/submissions/{quote(parcel.reference)}"
    return {
        "staff_view": staff_view,
        "pdf": f"{staff_view}/pdf",
        "data": f"{staff_view}/data.json",
        "attachments": {a.id: f"{staff_view}/attachments/{a.id}" for a in parcel.attachments},
    }


# -- e-mail -----------------------------------------------------------------------------


def office_mail_subject(parcel: Parcel) -> str:
    """``[<reference>] <service title> – <commune name>``."""
    return f"[{parcel.reference}] {parcel.service_title} – {parcel.commune_name}"


def office_mail_body(parcel: Parcel) -> str:
    """The German plain-text body of the e-mail to the office."""
    submitted = to_berlin(parcel.submitted_at).strftime("%d.%m.%Y, %H:%M Uhr")
    with force_locale("de"):
        lines = [
            _("Guten Tag,"),
            "",
            _("über das Online-Portal ist ein neuer Antrag eingegangen."),
            "",
            _("Vorgangsnummer: %(reference)s", reference=parcel.reference),
            _("Leistung: %(service)s", service=parcel.service_title),
            _("Kommune: %(commune)s", commune=parcel.commune_name),
            _("Zuständig: %(office)s", office=parcel.office_name),
            _("Eingegangen am: %(time)s", time=submitted),
        ]
        if parcel.submitter_name:
            lines.append(_("Antragsteller/in: %(name)s", name=parcel.submitter_name))
        lines += [
            "",
            _(
                "Im Anhang finden Sie den Antrag als PDF/A-Dokument, die Angaben als "
                "data.json und die hochgeladenen Dateien."
            ),
        ]
        if parcel.attachments:
            lines.append("")
            lines.append(_("Hochgeladene Dateien:"))
            lines += [f"- {a.filename} ({a.size} Bytes, SHA-256 {a.sha256})" for a in parcel.attachments]
        base = current_app.config.get("PUBLIC_BASE_URL", "")
        if base:
            lines += [
                "",
                _("Zum Vorgang im Mitarbeiterbereich:"),
                base + submission_paths(parcel)["staff_view"],
            ]
        lines += ["", _("Diese Nachricht wurde automatisch erstellt.")]
    return "\n".join(lines) + "\n"


def _read_blob(key: str | None, what: str) -> bytes:
    if key is None:
        raise DeliveryError(_("%(what)s ist nicht gespeichert.", what=what))
    try:
        return blob_store().read(key)
    except (OSError, ValueError) as exc:
        raise DeliveryError(_("%(what)s fehlt im Speicher: %(error)s", what=what, error=exc)) from exc


def office_mail_attachments(parcel: Parcel) -> list[MailAttachment]:
    """The PDF, data.json and every uploaded file, read from storage."""
    files = [
        MailAttachment(f"{parcel.reference}.pdf", _read_blob(parcel.pdf_key, "PDF"), "application/pdf"),
        MailAttachment("data.json", answers_json(parcel.answers), "application/json"),
    ]
    for attachment in parcel.attachments:
        content = _read_blob(attachment.storage_key, attachment.filename)
        files.append(MailAttachment(attachment.filename, content, attachment.media_type))
    return files


def send_office_email(parcel: Parcel, *, timeout: float) -> str | None:
    """Send the submission to the office's address.

    The Message-ID is derived from the delivery's idempotency key, so a resent
    message carries the same id and the receiving side can drop the copy.
    Returns a note for the delivery log when the message was only logged.
    """
    if not parcel.target or "@" not in parcel.target:
        raise PermanentDeliveryError(_("Keine gültige E-Mail-Adresse für die Zustellung hinterlegt."))
    reply_to = parcel.submitter_email if "@" in parcel.submitter_email else None
    message = compose_mail(
        parcel.target,
        office_mail_subject(parcel),
        office_mail_body(parcel),
        office_mail_attachments(parcel),
        reply_to=reply_to,
        message_id=f"<{parcel.idempotency_key}@{sender_domain()}>",
        headers={
            "Auto-Submitted": "auto-generated",
            "X-Kommunalportal-Reference": parcel.reference,
            "X-Kommunalportal-Delivery": str(parcel.delivery_id),
        },
    )
    return _send_mail(message, timeout)


def _send_mail(message: EmailMessage, timeout: float) -> str | None:
    """Send ``message``; a note for the delivery log when mail is switched off and it was only logged."""
    try:
        sent = deliver_message(message, timeout=timeout)
    except Exception as exc:
        raise DeliveryError(str(exc)) from exc
    if not sent:
        return _("E-Mail-Versand ist abgeschaltet (MAIL_ENABLED); die Nachricht wurde nur protokolliert.")
    return None


# -- the citizen's confirmation -------------------------------------------------------


def citizen_mail_payload(subject: str, body: str) -> str:
    """The payload of a citizen e-mail delivery: the composed message, without the PDF."""
    return json.dumps({"subject": subject, "body": body}, ensure_ascii=False)


def send_citizen_email(parcel: Parcel, *, timeout: float) -> str | None:
    """Send the confirmation composed at submit time, with the submission's PDF from storage.

    The Message-ID is derived from the idempotency key, as for the office's e-mail. Returns a
    note for the delivery log when the message was only logged.
    """
    if not parcel.target or "@" not in parcel.target:
        raise PermanentDeliveryError(_("Keine gültige E-Mail-Adresse für die Zustellung hinterlegt."))
    if not parcel.payload:
        raise PermanentDeliveryError(_("Die Eingangsbestätigung ist nicht mehr gespeichert."))
    composed = json.loads(parcel.payload)
    message = compose_mail(
        parcel.target,
        composed["subject"],
        composed["body"],
        [MailAttachment(f"{parcel.reference}.pdf", _read_blob(parcel.pdf_key, "PDF"), "application/pdf")],
        message_id=f"<{parcel.idempotency_key}@{sender_domain()}>",
        headers={"Auto-Submitted": "auto-generated"},
    )
    return _send_mail(message, timeout)


# -- webhook ----------------------------------------------------------------------------


def webhook_payload(parcel: Parcel) -> dict[str, Any]:
    """The JSON document posted to the webhook: metadata and links, no personal data."""
    paths = submission_paths(parcel)
    return {
        "type": "submission.created",
        "delivery_id": parcel.delivery_id,
        "submission": {
            "reference": parcel.reference,
            "service": {"slug": parcel.service_slug, "title": parcel.service_title},
            "commune": {"slug": parcel.commune_slug, "name": parcel.commune_name},
            "office": {"id": parcel.office_id, "name": parcel.office_name},
            "submitted_at": parcel.submitted_at.isoformat(),
            "status": parcel.status,
            "pdf_sha256": parcel.pdf_sha256,
            "links": {
                "staff_view": public_url(paths["staff_view"]),
                "pdf": public_url(paths["pdf"]),
                "data": public_url(paths["data"]),
                "attachments": [
                    {
                        "filename": a.filename,
                        "media_type": a.media_type,
                        "size": a.size,
                        "sha256": a.sha256,
                        "url": public_url(paths["attachments"][a.id]),
                    }
                    for a in parcel.attachments
                ],
            },
        },
    }


def sign_webhook(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA512 over ``<timestamp>.<body>``, as FIT-Connect signs its callbacks."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha512).hexdigest()


def check_webhook_url(url: str) -> None:
    """Refuse anything but http(s), and plain http in production."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PermanentDeliveryError(_("Die Webhook-Adresse ist keine HTTP(S)-URL: %(url)s", url=url))
    if parts.scheme != "https" and current_app.config.get("PORTAL_ENV") == "production":
        raise PermanentDeliveryError(
            _("Im Produktivbetrieb sind nur HTTPS-Webhooks erlaubt: %(url)s", url=url)
        )


def post_webhook(parcel: Parcel, *, timeout: float) -> None:
    """POST the signed metadata; any 2xx answer means delivered."""
    check_webhook_url(parcel.target)
    if not parcel.signing_secret:
        raise PermanentDeliveryError(_("Für den Webhook ist kein Schlüssel zum Signieren hinterlegt."))
    body = json.dumps(webhook_payload(parcel), ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Kommunalportal",
        "callback-timestamp": timestamp,
        "callback-authentication": sign_webhook(parcel.signing_secret, timestamp, body),
        "Idempotency-Key": parcel.idempotency_key,
    }
    # A redirect is an answer like any other non-2xx: the delivery is retried, not forwarded.
    answer = outbound.post(
        parcel.target, body, headers, timeout=timeout, allow_private=outbound.private_targets_allowed()
    )
    if not 200 <= answer.status < 300:
        raise DeliveryError(_("Webhook antwortete mit HTTP %(status)s.", status=answer.status))
