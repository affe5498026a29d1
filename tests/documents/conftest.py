"""Fixtures of the document tests: the rendered sample and text extraction with poppler's pdftotext.

These tests are pure (no app, no database). pdftotext comes from Debian's poppler-utils; without it
the text tests skip locally, and fail under CI, where .ci/run installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

import pytest

from app.documents import render_submission_pdf

from .samples import make_document


@pytest.fixture(scope="session")
def sample_pdf() -> bytes:
    """The PDF/A-3b of the sample submission, rendered once for the read-only tests."""
    return render_submission_pdf(make_document())


@pytest.fixture(scope="session")
def pdf_text() -> Callable[[bytes], str]:
    """A function that extracts the text of a PDF with poppler's pdftotext."""
    executable = shutil.which("pdftotext")
    if executable is None:
        message = "pdftotext is missing: install Debian's poppler-utils"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

    def extract(pdf: bytes) -> str:
        result = subprocess.run([executable, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                                check=True, timeout=60)
        return result.stdout.decode("utf-8").replace("\xa0", " ")

    return extract
