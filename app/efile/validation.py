"""Validating xdomea messages against the shipped xdomea 3.0.0 XML Schema.

The schema (about 700 kB over 22 files) is compiled on first use and kept for the life of
the process; compiling it per export would cost more than building the message.
"""

from __future__ import annotations

import threading
from pathlib import Path

from lxml import etree

#: The shipped schema folder (layout as published: ``3.0.0/`` next to ``xoev/``).
SCHEMA_ROOT = Path(__file__).resolve().parent / "resources" / "xdomea-3.0.0"
#: The entry point that includes every message of xdomea 3.0.0.
ENTRY_POINT = SCHEMA_ROOT / "3.0.0" / "xdomea.xsd"

_lock = threading.Lock()
_validate_lock = threading.Lock()
_schema: etree.XMLSchema | None = None


class InvalidMessage(Exception):
    """The message does not conform to the xdomea 3.0.0 schema; ``errors`` says where and why."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors) or "invalid xdomea message")
        self.errors = errors


def xdomea_schema() -> etree.XMLSchema:
    """The compiled xdomea 3.0.0 schema (compiled once per process, thread-safe)."""
    global _schema
    if _schema is None:
        with _lock:
            if _schema is None:
                _schema = etree.XMLSchema(etree.parse(str(ENTRY_POINT)))
    return _schema


def schema_errors(xml: bytes) -> list[str]:
    """Every schema violation of ``xml`` as ``line N: message``; empty when it is valid."""
    try:
        document = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        return [f"line {error.lineno}: {error.msg}"]
    schema = xdomea_schema()
    # The error log belongs to the schema object: read it under the lock that validated.
    with _validate_lock:
        if schema.validate(document):
            return []
        return [f"line {entry.line}: {entry.message}" for entry in schema.error_log]


def validate(xml: bytes) -> None:
    """Raise :class:`InvalidMessage` unless ``xml`` conforms to xdomea 3.0.0."""
    errors = schema_errors(xml)
    if errors:
        raise InvalidMessage(errors)
