"""The JSON Schema (2020-12) of the answers document a service's form produces."""

from __future__ import annotations

from typing import Any

from app.formspec.model import ServiceSpec


def data_schema(service: ServiceSpec) -> dict[str, Any]:
    """JSON Schema 2020-12 that every stored answer set of this service validates against."""
    raise NotImplementedError
