"""Start-up wiring of the catalogue: parse forms/ once, offer featured services to templates."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask
from flask_babel import format_currency

from app.catalogue.services import featured_services, load_into_app


def format_eur(amount: Decimal | int | float) -> str:
    """An amount in euros as the reader's language writes it (``12,50 €`` in German)."""
    return format_currency(amount, "EUR")


def init_app(app: Flask) -> None:
    """Load the catalogue (broken definitions are logged and skipped), register the
    ``featured_services(commune)`` template global used by the commune home page and the
    ``eur`` filter for fees."""
    load_into_app(app)
    app.jinja_env.globals["featured_services"] = featured_services
    app.jinja_env.filters["eur"] = format_eur
