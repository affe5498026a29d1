"""Webhook targets a commune admin may enter, and the test delivery to one.

A webhook URL must be http(s) and may not point back at the portal itself (a
delivery would then be a request forged in the portal's name). In production it may
not point at this machine or the internal network either: the host is resolved and
loopback, link-local, private and otherwise non-public addresses are refused (unless
``DELIVERY_ALLOW_PRIVATE_TARGETS`` is on). The test delivery, like every real one,
goes through :mod:`app.delivery.outbound`, which checks the addresses again when it
connects.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _

from app.delivery import outbound
from app.delivery.channels import DeliveryError, check_webhook_url, sign_webhook

#: How much of the receiver's answer the test delivery shows.
ANSWER_PREVIEW_BYTES = 2000


class WebhookUrlError(ValueError):
    """A webhook URL was refused; the message says why, in German."""


def _host_port(netloc_host: str | None, port: int | None, scheme: str) -> tuple[str, int]:
    host = (netloc_host or "").lower().rstrip(".")
    return host, port or (443 if scheme == "https" else 80)


def _portal_addresses(portal_hosts: list[str]) -> set[tuple[str, int]]:
    found: set[tuple[str, int]] = set()
    for value in portal_hosts:
        if not value:
            continue
        parts = urlsplit(value if "//" in value else f"//{value}")
        scheme = parts.scheme or "http"
        found.add(_host_port(parts.hostname, parts.port, scheme))
        if parts.port is None:
            # A Host header without a port is served on both default ports.
            found.add(_host_port(parts.hostname, 443 if scheme == "http" else 80, scheme))
    return found


def check_target_url(url: str, *, portal_hosts: list[str], production: bool) -> str:
    """``url`` stripped if a webhook may be sent there; :class:`WebhookUrlError` otherwise.

    ``portal_hosts`` are the portal's own host names (the request's ``host`` and
    ``PUBLIC_BASE_URL``), with or without port. ``production`` adds the check of the
    resolved addresses (unless ``DELIVERY_ALLOW_PRIVATE_TARGETS``) and requires https
    (as the delivery channel does).
    """
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlError(_("Die Webhook-Adresse muss mit http:// oder https:// beginnen."))
    if parts.username or parts.password:
        raise WebhookUrlError(_("Die Webhook-Adresse darf keine Zugangsdaten enthalten."))
    try:
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlError(_("Die Portnummer der Webhook-Adresse ist ungültig.")) from exc
    target = _host_port(parts.hostname, port, parts.scheme)
    if target in _portal_addresses(portal_hosts):
        raise WebhookUrlError(_("Die Webhook-Adresse darf nicht auf das Portal selbst zeigen."))
    if production and parts.scheme != "https":
        raise WebhookUrlError(_("Im Produktivbetrieb sind nur HTTPS-Webhooks erlaubt."))
    if production and not outbound.private_targets_allowed():
        try:
            infos = socket.getaddrinfo(target[0], target[1], proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as exc:
            raise WebhookUrlError(
                _("Der Rechnername %(host)s der Webhook-Adresse ist unbekannt.", host=target[0])
            ) from exc
        if not all(outbound.is_public_address(str(info[4][0])) for info in infos):
            raise WebhookUrlError(
                _(
                    "Die Webhook-Adresse zeigt auf ein internes Netz oder diesen Rechner; "
                    "erlaubt sind nur öffentlich erreichbare Adressen."
                )
            )
    return url


@dataclass(frozen=True)
class ProbeResult:
    """What the receiver answered to the test delivery (``status`` None: not reached)."""

    ok: bool
    status: int | None
    answer: str
    error: str = ""


def probe_payload(
    commune_slug: str, commune_name: str, service_slug: str, service_title: str
) -> dict[str, Any]:
    """The JSON document of a test delivery: ``type: "test"`` and who sends it, no personal data."""
    return {
        "type": "test",
        "test": True,
        "commune": {"slug": commune_slug, "name": commune_name},
        "service": {"slug": service_slug, "title": service_title},
        "sent_at": int(time.time()),
    }


def send_probe(url: str, secret: str, payload: dict[str, Any], *, timeout: float) -> ProbeResult:
    """POST ``payload`` to ``url`` signed like a real delivery, and report the answer."""
    try:
        check_webhook_url(url)
    except DeliveryError as exc:
        return ProbeResult(ok=False, status=None, answer="", error=str(exc))
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Kommunalportal",
        "callback-timestamp": timestamp,
        "callback-authentication": sign_webhook(secret, timestamp, body),
    }
    # A redirect is reported as the answer, not followed.
    try:
        answer = outbound.post(
            url,
            body,
            headers,
            timeout=timeout,
            allow_private=outbound.private_targets_allowed(),
            read_limit=ANSWER_PREVIEW_BYTES,
        )
    except DeliveryError as exc:
        return ProbeResult(ok=False, status=None, answer="", error=str(exc))
    return ProbeResult(
        ok=200 <= answer.status < 300,
        status=answer.status,
        answer=answer.body.decode("utf-8", errors="replace"),
    )
