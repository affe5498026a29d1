"""Submission settings and the pipeline's part in the delivery worker.

``SUBMIT_RATE_LIMIT`` ("10 per minute;50 per hour"): submits per client, applied to the
check page's POST (Flask-Limiter syntax; storage from RATELIMIT_STORAGE_URI).
Every round of ``flask deliveries work`` first renders the PDFs that are still missing
(:func:`app.submissions.pdf.render_pending_pdfs`), since deliveries wait for them.
"""

from __future__ import annotations

import os

from flask import Flask

from app.delivery.worker import connect_round_task
from app.submissions.pdf import render_pending_pdfs

DEFAULT_SUBMIT_RATE_LIMIT = "10 per minute;50 per hour"


def _render_pending_pdfs(app: Flask) -> None:
    render_pending_pdfs()


def init_app(app: Flask) -> None:
    app.config.setdefault(
        "SUBMIT_RATE_LIMIT", os.environ.get("SUBMIT_RATE_LIMIT", "").strip() or DEFAULT_SUBMIT_RATE_LIMIT
    )
    connect_round_task(_render_pending_pdfs)
