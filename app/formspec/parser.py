"""Validating a definition (parsed YAML or a stored source) into a ServiceSpec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.formspec.model import ServiceSpec


def service_from_source(source: Mapping[str, Any]) -> ServiceSpec:
    """Rebuild a ServiceSpec from a stored, merged source; InvalidSpec if it is not valid."""
    raise NotImplementedError
