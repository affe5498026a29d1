"""Webhook requests go only to vetted addresses: DNS rebinding between saving and delivery.

A host name is resolved once per delivery; if any answer is not public the
delivery fails for good (with a message staff read in the delivery log), and
otherwise the connection goes to the vetted address, never to a second lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.delivery import outbound
from app.delivery.models import Delivery, DeliveryState
from app.delivery.setup import init_app as init_delivery
from app.delivery.worker import process_due
from app.extensions import db
from app.staff.admin.webhooks import check_target_url, send_probe
from delivery.builders import Channels, submit
from delivery.certificates import CertificateAuthority
from delivery.conftest import WEBHOOK_SECRET
from delivery.servers import HttpRecorder

PUBLIC = "93.184.216.34"
HOOK_HOST = "hooks.fachverfahren.example"

_real_getaddrinfo = socket.getaddrinfo
_real_create_connection = socket.create_connection


class FakeDns:
    """Answers for chosen host names, in turn (the last answer repeats); others resolve for real."""

    def __init__(self) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []

    def set(self, host: str, *answers: list[str]) -> None:
        self.answers[host] = list(answers)

    def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in self.answers:
            return _real_getaddrinfo(host, port, *args, **kwargs)
        self.lookups.append(host)
        queue = self.answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        infos = []
        for address in addresses:
            if ":" in address:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port or 0, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0)))
        return infos


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    fake = FakeDns()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake


class Connections:
    """Records every address the portal connects to; :meth:`route` sends one to a local port."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []
        self._routes: dict[str, tuple[str, int]] = {}

    def route(self, address: str, port: int) -> None:
        self._routes[address] = ("127.0.0.1", port)

    def create_connection(self, address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        self.seen.append((address[0], address[1]))
        return _real_create_connection(self._routes.get(address[0], address), *args, **kwargs)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Connections:
    recorder = Connections()
    monkeypatch.setattr(socket, "create_connection", recorder.create_connection)
    return recorder


def _reload(delivery: Delivery) -> Delivery:
    db.session.expire_all()
    fresh = db.session.get(Delivery, delivery.id)
    assert fresh is not None
    return fresh


def _hook(url: str) -> Channels:
    return Channels(deliver_by_email=False, webhook_url=url, webhook_secret=WEBHOOK_SECRET)


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.20.30.40", "169.254.169.254", "::1", "::ffff:127.0.0.1", "fd00::1"]
)
def test_host_rebound_to_a_non_public_address_after_saving_is_refused_for_good(
    delivery_settings: Flask,
    webhook_receiver: HttpRecorder,
    dns: FakeDns,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    address: str,
) -> None:
    monkeypatch.setitem(delivery_settings.config, "DELIVERY_ALLOW_PRIVATE_TARGETS", False)
    url = f"https://{HOOK_HOST}:{webhook_receiver.port}/eingang"
    # Public when the admin saves the URL, internal when the delivery goes out.
    dns.set(HOOK_HOST, [PUBLIC], [address])
    assert check_target_url(url, portal_hosts=["portal.example"], production=True) == url
    _, [delivery] = submit(_hook(url))

    with caplog.at_level(logging.WARNING, logger="app.delivery"):
        [outcome] = process_due()

    assert outcome.state is DeliveryState.FAILED
    stored = _reload(delivery)
    assert stored.state is DeliveryState.FAILED
    assert stored.attempts == 1 and stored.next_attempt_at is None
    assert stored.last_error is not None
    assert stored.last_error.startswith(f"Zustellung verweigert: {HOOK_HOST} zeigt auf die nicht öffentliche")
    assert address in stored.last_error
    assert webhook_receiver.requests == []
    assert any("refused" in r.getMessage() and address in r.getMessage() for r in caplog.records)


def test_one_non_public_address_among_public_ones_refuses_the_delivery(
    delivery_settings: Flask, dns: FakeDns, connections: Connections, monkeypatch
) -> None:
    monkeypatch.setitem(delivery_settings.config, "DELIVERY_ALLOW_PRIVATE_TARGETS", False)
    dns.set(HOOK_HOST, [PUBLIC, "10.0.0.1"])
    _, [delivery] = submit(_hook(f"https://{HOOK_HOST}/eingang"))

    [outcome] = process_due()

    assert outcome.state is DeliveryState.FAILED
    assert "10.0.0.1" in (_reload(delivery).last_error or "")
    assert connections.seen == []


def test_a_public_answer_is_connected_to_without_a_second_lookup(
    delivery_settings: Flask,
    webhook_receiver: HttpRecorder,
    dns: FakeDns,
    connections: Connections,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(delivery_settings.config, "DELIVERY_ALLOW_PRIVATE_TARGETS", False)
    port = webhook_receiver.port
    # A second lookup would get the loopback address: the request must not depend on it.
    dns.set(HOOK_HOST, [PUBLIC], ["127.0.0.1"])
    connections.route(PUBLIC, port)  # the "public" host is played by the local receiver
    submission, [delivery] = submit(_hook(f"http://{HOOK_HOST}:{port}/eingang?von=portal"))

    [outcome] = process_due()

    assert outcome.state is DeliveryState.DELIVERED
    assert dns.lookups == [HOOK_HOST]
    assert connections.seen == [(PUBLIC, port)]
    [request] = webhook_receiver.wait_for(1)
    assert request.headers["host"] == f"{HOOK_HOST}:{port}"
    assert request.path == "/eingang?von=portal"
    timestamp = request.headers["callback-timestamp"]
    expected = hmac.new(
        WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + request.body, hashlib.sha512
    ).hexdigest()
    assert hmac.compare_digest(request.headers["callback-authentication"], expected)
    assert request.headers["idempotency-key"] == f"{submission.reference}.{delivery.id}"


def test_the_switch_decides_whether_the_local_receiver_may_be_reached(
    delivery_settings: Flask, webhook_receiver: HttpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(delivery_settings.config, "DELIVERY_ALLOW_PRIVATE_TARGETS", False)
    _, [refused] = submit(_hook(webhook_receiver.url + "/eingang"))
    assert process_due()[0].state is DeliveryState.FAILED
    assert "127.0.0.1" in (_reload(refused).last_error or "")

    monkeypatch.setitem(delivery_settings.config, "DELIVERY_ALLOW_PRIVATE_TARGETS", True)
    _, [allowed] = submit(_hook(webhook_receiver.url + "/eingang"))
    assert process_due()[0].state is DeliveryState.DELIVERED
    assert _reload(allowed).state is DeliveryState.DELIVERED
    assert len(webhook_receiver.wait_for(1)) == 1


def test_the_switch_is_off_unless_the_environment_turns_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DELIVERY_ALLOW_PRIVATE_TARGETS", raising=False)
    off = Flask("off")
    init_delivery(off)
    assert off.config["DELIVERY_ALLOW_PRIVATE_TARGETS"] is False
    monkeypatch.setenv("DELIVERY_ALLOW_PRIVATE_TARGETS", "on")
    on = Flask("on")
    init_delivery(on)
    assert on.config["DELIVERY_ALLOW_PRIVATE_TARGETS"] is True


def test_a_redirect_to_an_internal_address_is_answered_not_followed(
    delivery_settings: Flask, webhook_receiver: HttpRecorder
) -> None:
    _, [delivery] = submit(_hook(webhook_receiver.url))
    webhook_receiver.answer_with([307])

    [outcome] = process_due()

    assert outcome.state is DeliveryState.PENDING
    assert len(webhook_receiver.requests) == 1
    assert _reload(delivery).last_error == "Webhook antwortete mit HTTP 307."


@pytest.fixture
def authority(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path)


@pytest.fixture
def tls_receiver(authority: CertificateAuthority) -> Iterator[HttpRecorder]:
    receiver = HttpRecorder(ssl_context=authority.server_context(HOOK_HOST)).start()
    yield receiver
    receiver.stop()


def test_https_sends_the_host_name_as_sni_and_checks_the_certificate_against_it(
    app: Flask,
    tls_receiver: HttpRecorder,
    authority: CertificateAuthority,
    dns: FakeDns,
    connections: Connections,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbound, "tls_context", authority.client_context)
    port = tls_receiver.port
    dns.set(HOOK_HOST, [PUBLIC])
    connections.route(PUBLIC, port)

    answer = outbound.post(
        f"https://{HOOK_HOST}:{port}/eingang", b"{}", {"Content-Type": "application/json"},
        timeout=3, allow_private=False,
    )

    assert answer.status == 200
    assert tls_receiver.server_names == [HOOK_HOST]
    [request] = tls_receiver.wait_for(1)
    assert request.headers["host"] == f"{HOOK_HOST}:{port}"
    assert connections.seen == [(PUBLIC, port)]


def test_https_to_a_name_the_certificate_does_not_cover_fails(
    app: Flask,
    tls_receiver: HttpRecorder,
    authority: CertificateAuthority,
    dns: FakeDns,
    connections: Connections,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbound, "tls_context", authority.client_context)
    port = tls_receiver.port
    dns.set("andere.example", [PUBLIC])
    connections.route(PUBLIC, port)

    with pytest.raises(outbound.DeliveryError, match="Webhook nicht erreichbar") as failure:
        outbound.post(
            f"https://andere.example:{port}/", b"{}", {}, timeout=3, allow_private=False
        )

    assert not isinstance(failure.value, outbound.TargetRefused)
    assert "andere.example" in str(failure.value)
    assert tls_receiver.requests == []


def test_the_test_delivery_is_vetted_at_sending_time_too(
    app: Flask, webhook_receiver: HttpRecorder, dns: FakeDns, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "DELIVERY_ALLOW_PRIVATE_TARGETS", False)
    dns.set(HOOK_HOST, ["169.254.169.254"])

    probe = send_probe(
        f"http://{HOOK_HOST}:{webhook_receiver.port}/", WEBHOOK_SECRET, {"type": "test"}, timeout=3
    )

    assert not probe.ok and probe.status is None
    assert probe.error.startswith("Zustellung verweigert") and "169.254.169.254" in probe.error
    assert webhook_receiver.requests == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),
        ("169.254.169.254", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd12:3456::1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:93.184.216.34", True),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert outbound.is_public_address(address) is public
