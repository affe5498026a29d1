"""The demo API client: one for Werneuchen, so the API can be tried against the demo data.

Only in DEMO_MODE. The token is printed once, when the client is created; a later run
finds the client and says so without a token (only its hash is stored). To get a new
token, revoke the client in the staff workspace and run the demo again, which then
creates a fresh one.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.api import services
from app.api.models import ApiClient
from app.extensions import db
from app.staff.audit import Origin
from app.tenancy.models import Commune

DEMO_COMMUNE = "werneuchen"
DEMO_CLIENT_NAME = "Demo-Fachverfahren"


def load_demo() -> list[str]:
    """Create the demo client if Werneuchen has no usable one; returns what it did (and the token)."""
    if not current_app.config.get("DEMO_MODE"):
        return ["DEMO_MODE ist aus – kein Demo-API-Client angelegt"]
    commune = db.session.scalar(select(Commune).where(Commune.slug == DEMO_COMMUNE))
    if commune is None:
        return [f"Kommune {DEMO_COMMUNE} fehlt – kein Demo-API-Client angelegt"]
    existing = db.session.scalar(
        select(ApiClient).where(
            ApiClient.commune_id == commune.id,
            ApiClient.name == DEMO_CLIENT_NAME,
            ApiClient.revoked_at.is_(None),
        )
    )
    if existing is not None:
        return [
            f"Demo-API-Client „{DEMO_CLIENT_NAME}“ (kp_{existing.token_prefix}_…) besteht schon; "
            "das Token wird nicht erneut angezeigt (zum Erneuern sperren und die Demo neu laden)"
        ]
    stale = db.session.scalar(
        select(ApiClient).where(ApiClient.commune_id == commune.id, ApiClient.name == DEMO_CLIENT_NAME)
    )
    if stale is not None:
        # The name is unique per commune; a revoked demo client gives way to the new one.
        stale.name = f"{DEMO_CLIENT_NAME} (gesperrt, {stale.token_prefix})"
        db.session.flush()
    _client, token = services.create_client(
        commune, name=DEMO_CLIENT_NAME, origin=Origin.command("portal demo")
    )
    db.session.commit()
    return [f"Demo-API-Client „{DEMO_CLIENT_NAME}“ für {commune.name}: Authorization: Bearer {token}"]
