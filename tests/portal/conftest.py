"""Every portal test runs inside the application with a fresh, empty database."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture(autouse=True)
def _in_app(app: Flask) -> None:
    """Pulls in the suite's app fixture, so the suite's isolation applies to every test here."""
