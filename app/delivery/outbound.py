"""Outbound HTTP to webhook targets, safe against DNS rebinding.

A webhook URL is checked when an admin saves it, but a host name can resolve to
something else by the time a delivery goes out (a short-lived DNS answer that
first names a public address and then ``127.0.0.1`` or ``169.254.169.254``).
So every request resolves the host exactly once, refuses the whole request if
any of the answers is not a public address, and connects to a vetted address
itself: the name resolution that ``http.client`` would do on its own never
happens. The request still carries the original host name in its ``Host``
header, and TLS sends it as SNI and checks the certificate against it.

Redirects are not followed: the answer is reported as it is. Proxy settings from
the environment are not used, since a proxy would resolve the name again.

``DELIVERY_ALLOW_PRIVATE_TARGETS`` (off) lifts the address check, for
development, tests and installations whose receivers live in an internal network.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

from app.delivery.errors import DeliveryError, PermanentDeliveryError

log = logging.getLogger(__name__)


def is_public_address(address: str) -> bool:
    """Whether ``address`` is a globally routable unicast address.

    Loopback, private, link-local (cloud metadata at 169.254.169.254), shared,
    reserved, documentation and multicast addresses are not; an IPv4 address
    mapped into IPv6 (``::ffff:127.0.0.1``) is judged as the IPv4 address it is.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def private_targets_allowed() -> bool:
    """``DELIVERY_ALLOW_PRIVATE_TARGETS`` of the current app."""
    return bool(current_app.config.get("DELIVERY_ALLOW_PRIVATE_TARGETS", False))


class TargetRefused(PermanentDeliveryError):
    """The target's host name resolves to an address the portal may not send to."""


def resolve_target(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses to connect to for ``host``, each vetted, in the resolver's order.

    Raises :class:`TargetRefused` when any address is not public (unless
    ``allow_private``), and :class:`DeliveryError` (retried) when the name does
    not resolve now.
    """
    addresses: list[str] = []
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        failure: object = exc
    else:
        failure = "–"
        for info in infos:
            address = str(info[4][0])
            if address not in addresses:
                addresses.append(address)
    if not addresses:
        raise DeliveryError(
            _(
                "Der Rechnername %(host)s der Webhook-Adresse lässt sich nicht auflösen: %(error)s",
                host=host,
                error=failure,
            )
        )
    if not allow_private:
        refused = [a for a in addresses if not is_public_address(a)]
        if refused:
            log.warning(
                "webhook to %s:%s refused: it resolves to the non-public address(es) %s",
                host,
                port,
                ", ".join(refused),
            )
            raise TargetRefused(
                _(
                    "Zustellung verweigert: %(host)s zeigt auf die nicht öffentliche Adresse "
                    "%(address)s (internes Netz oder dieser Rechner). Bitte prüfen Sie die "
                    "Webhook-Adresse; interne Empfänger erlaubt nur die Einstellung "
                    "DELIVERY_ALLOW_PRIVATE_TARGETS.",
                    host=host,
                    address=refused[0],
                )
            )
    return addresses


def tls_context() -> ssl.SSLContext:
    """Certificate and host name verification against the system's trusted CAs."""
    return ssl.create_default_context()


def _connect(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A TCP connection to the first of ``addresses`` that answers."""
    last: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as exc:
            last = exc
    assert last is not None
    raise last


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Speaks to ``host`` (Host header) at one of the vetted ``addresses``."""

    def __init__(self, host: str, port: int, addresses: list[str], *, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As :class:`_PinnedHTTPConnection`, with TLS for ``host`` (SNI and certificate)."""

    def __init__(
        self, host: str, port: int, addresses: list[str], *, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._addresses = addresses
        self._tls = context

    def connect(self) -> None:
        sock = _connect(self._addresses, self.port, self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


@dataclass(frozen=True)
class Answer:
    """The receiver's status and the first bytes of its answer."""

    status: int
    body: bytes


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    allow_private: bool,
    read_limit: int = 0,
) -> Answer:
    """POST ``body`` to ``url`` over a connection to a vetted address; never follows a redirect.

    Raises :class:`TargetRefused` for a non-public target, :class:`DeliveryError`
    when the target cannot be reached or the exchange breaks off.
    """
    parts = urlsplit(url)
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host:
        raise PermanentDeliveryError(_("Die Webhook-Adresse ist keine HTTP(S)-URL: %(url)s", url=url))
    addresses = resolve_target(host, port, allow_private=allow_private)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPSConnection(host, port, addresses, timeout=timeout, context=tls_context())
    else:
        connection = _PinnedHTTPConnection(host, port, addresses, timeout=timeout)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        connection.request("POST", target, body=body, headers=dict(headers))
        response = connection.getresponse()
        answer = Answer(status=response.status, body=response.read(read_limit) if read_limit else b"")
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(_("Webhook nicht erreichbar: %(error)s", error=exc)) from exc
    finally:
        connection.close()
    return answer
