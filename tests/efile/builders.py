"""Helpers of the e-file tests: the xdomea schema as the association publishes it, ZIP reading."""

from __future__ import annotations

import functools
import io
import zipfile
from pathlib import Path

from lxml import etree

from app.efile import validation

#: The standards folder shared by the association (the tests compare against it).
STANDARDS = Path(__file__).resolve().parents[3] / "shared" / "standards" / "xdomea"
NS = {"x": "urn:xoev-de:xdomea:schema:3.0.0"}


#: Whether the association's standards folder is beside the checkout (a bare clone has none).
HAVE_STANDARDS = (STANDARDS / "3.0.0" / "xdomea.xsd").is_file()


@functools.cache
def published_schema() -> etree.XMLSchema:
    """The xdomea 3.0.0 schema from ../shared/standards (not the copy the product ships).

    Without that folder, the shipped copy, which test_package proves byte-identical to it
    wherever the folder is present.
    """
    entry = STANDARDS / "3.0.0" / "xdomea.xsd" if HAVE_STANDARDS else validation.ENTRY_POINT
    return etree.XMLSchema(etree.parse(str(entry)))


def assert_valid(xml: bytes) -> etree._Element:
    """Parse ``xml`` and assert it validates against the published schema; returns the root."""
    root = etree.fromstring(xml)
    schema = published_schema()
    assert schema.validate(root), [f"{e.line}: {e.message}" for e in schema.error_log]
    return root


def read_zip(data: bytes) -> dict[str, bytes]:
    """Every member of a ZIP by name, in the archive's order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
