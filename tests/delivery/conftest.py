"""Fixtures of the delivery tests: a real SMTP server, a real HTTP receiver, mail switched on.

Other test folders can use them by importing them into their own conftest::

    from delivery.conftest import delivery_settings, smtp_server, webhook_receiver  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from delivery.servers import HttpRecorder, SmtpRecorder

PUBLIC_BASE_URL = "https://portal.example"
WEBHOOK_SECRET = "geheim-und-lang-genug-zum-signieren"


@pytest.fixture
def smtp_server() -> Iterator[SmtpRecorder]:
    """An aiosmtpd server on 127.0.0.1 (free port) that records every message."""
    server = SmtpRecorder().start()
    yield server
    server.stop()


@pytest.fixture
def webhook_receiver(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpRecorder]:
    """A WSGI server on 127.0.0.1 (free port) that records every request and answers 200.

    Webhooks to private addresses are allowed while it runs, since it is one.
    """
    monkeypatch.setitem(app.config, "DELIVERY_ALLOW_PRIVATE_TARGETS", True)
    receiver = HttpRecorder().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def delivery_settings(app: Flask, smtp_server: SmtpRecorder, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """Mail on and pointed at ``smtp_server``; short timeouts; links under PUBLIC_BASE_URL.

    Webhooks may go to private addresses (the test receivers listen on 127.0.0.1).
    """
    settings = {
        "MAIL_ENABLED": True,
        "MAIL_SERVER": smtp_server.host,
        "MAIL_PORT": smtp_server.port,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": "",
        "MAIL_DEFAULT_SENDER": "portal@kommunalportal.example",
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "DELIVERY_TIMEOUT_SECONDS": 3,
        "DELIVERY_MAX_ATTEMPTS": 10,
        "DELIVERY_BACKOFF_SECONDS": 60,
        "DELIVERY_BACKOFF_MAX_SECONDS": 3600,
        "DELIVERY_LEASE_SECONDS": 600,
        "DELIVERY_ATTEMPT_AFTER_COMMIT": True,
        "DELIVERY_ALLOW_PRIVATE_TARGETS": True,
    }
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    return app
