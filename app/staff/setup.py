"""Wires the staff area into the application: Flask-Login and the access guard."""

from __future__ import annotations

from flask import Flask

from app.staff import auth


def init_app(app: Flask) -> None:
    auth.init_app(app)
