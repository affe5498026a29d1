"""Delivery settings, read from the environment at start-up.

``DELIVERY_MAX_ATTEMPTS`` (10): attempts before a delivery is marked failed.
``DELIVERY_BACKOFF_SECONDS`` (60) and ``DELIVERY_BACKOFF_MAX_SECONDS`` (3600):
the wait after the n-th failure is base × 2^(n-1), capped.
``DELIVERY_LEASE_SECONDS`` (600): how long a claim holds; after that, another
worker takes over a delivery whose worker died. Keep it well above the timeout.
``DELIVERY_TIMEOUT_SECONDS`` (10): connect/read timeout for SMTP and webhooks;
``DELIVERY_AFTER_COMMIT_TIMEOUT_SECONDS`` (5) for the attempt the submitting
request makes while the citizen waits.
``DELIVERY_POLL_SECONDS`` (5) and ``DELIVERY_BATCH_SIZE`` (20): the worker's loop.
``DELIVERY_ATTEMPT_AFTER_COMMIT`` (on): the submitting request tries at once.
``DELIVERY_ALLOW_PRIVATE_TARGETS`` (off): let webhooks go to loopback, private,
link-local and other non-public addresses (a receiver on this machine or in the
internal network). Off, a delivery whose host resolves to such an address fails
at once, whatever the address was when the URL was saved.

Values already in the config (e.g. test overrides) win.
"""

from __future__ import annotations

import os

from flask import Flask

from app.config import ConfigurationError

_INTEGERS = {
    "DELIVERY_MAX_ATTEMPTS": 10,
    "DELIVERY_BACKOFF_SECONDS": 60,
    "DELIVERY_BACKOFF_MAX_SECONDS": 3600,
    "DELIVERY_LEASE_SECONDS": 600,
    "DELIVERY_TIMEOUT_SECONDS": 10,
    "DELIVERY_AFTER_COMMIT_TIMEOUT_SECONDS": 5,
    "DELIVERY_POLL_SECONDS": 5,
    "DELIVERY_BATCH_SIZE": 20,
}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from exc
    if value < 0 or (name == "DELIVERY_MAX_ATTEMPTS" and value < 1):
        raise ConfigurationError(f"{name} must be positive, got {raw!r}")
    return value


def init_app(app: Flask) -> None:
    for name, default in _INTEGERS.items():
        app.config.setdefault(name, _env_int(name, default))
    raw = os.environ.get("DELIVERY_ATTEMPT_AFTER_COMMIT", "").strip().lower()
    app.config.setdefault("DELIVERY_ATTEMPT_AFTER_COMMIT", raw not in {"0", "false", "no", "off"})
    raw = os.environ.get("DELIVERY_ALLOW_PRIVATE_TARGETS", "").strip().lower()
    app.config.setdefault("DELIVERY_ALLOW_PRIVATE_TARGETS", raw in {"1", "true", "yes", "on"})
