"""Wires the staff area into the application: Flask-Login, the access guard, the sections."""

from __future__ import annotations

from flask import Flask

from app.staff import auth, navigation


def init_app(app: Flask) -> None:
    auth.init_app(app)
    navigation.init_app(app)
