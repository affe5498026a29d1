"""Builders for the API tests: clients with tokens, and requests that carry them."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.api import services
from app.api.models import ApiClient
from app.extensions import db
from app.staff.audit import Origin
from app.tenancy.models import Commune

_names = itertools.count(1)


def make_client(
    commune: Commune,
    *,
    office_ids: Sequence[int] = (),
    service_slugs: Sequence[str] = (),
    expires_at: datetime | None = None,
    name: str | None = None,
) -> tuple[ApiClient, str]:
    """A committed client of ``commune`` and its token."""
    client, token = services.create_client(
        commune,
        name=name or f"Fachverfahren {next(_names)}",
        office_ids=office_ids,
        service_slugs=service_slugs,
        expires_at=expires_at,
        origin=Origin.command("test"),
    )
    db.session.commit()
    return client, token


def bearer(token: str, **headers: str) -> dict[str, Any]:
    """Request headers with the token (and any others, e.g. ``If_Match``)."""
    values = {"Authorization": f"Bearer {token}"}
    values.update({name.replace("_", "-"): value for name, value in headers.items()})
    return values
