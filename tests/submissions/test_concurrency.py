"""200 citizens submitting at once against a real gunicorn server on PostgreSQL.

Each simulated citizen walks the real flow over HTTP (every step, the upload, the check page's
submit, the confirmation page). Afterwards the database holds 200 submissions with 200 PDFs and
the references 1..200 without a gap, and once the delivery worker (``deliveries work --once``)
has emptied the outbox, the SMTP server has received each office e-mail and each citizen
confirmation exactly once.

PostgreSQL only: SQLite has a single writer and is not what several gunicorn workers run on.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from delivery.servers import SmtpRecorder, free_port, wait_until
from flask import Flask
from sqlalchemy import func, select
from submission_builders import (
    SERVICE_SLUG,
    Setting,
    offer_service,
    png_bytes,
    serving_service,
    write_test_form,
)

from app.delivery.models import OPEN_STATES, Delivery
from app.extensions import db
from app.submissions.models import Submission

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = 200
CLIENT_THREADS = 16
OFFICE_ADDRESS = "ordnungsamt@example.org"

pytestmark = pytest.mark.slow


@dataclass
class LiveServer:
    """A gunicorn server of the portal and the environment it runs in."""

    url: str
    env: dict[str, str]
    log: Path


def _server_env(app: Flask, tmp_path: Path, smtp: SmtpRecorder) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAIL_", "DELIVERY_"))}
    env.update(
        {
            "PORTAL_ENV": "development",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "STORAGE_DIR": app.config["STORAGE_DIR"],
            "FORMS_DIR": str(tmp_path / "forms"),
            "MAIL_ENABLED": "1",
            "MAIL_SERVER": smtp.host,
            "MAIL_PORT": str(smtp.port),
            "MAIL_DEFAULT_SENDER": "portal@kommunalportal.example",
            "PUBLIC_BASE_URL": "https://portal.example",
            "RATELIMIT_ENABLED": "0",
            "DEMO_MODE": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    return env


@pytest.fixture
def postgresql(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): several gunicorn workers writing at once")


@pytest.fixture
def smtp() -> Iterator[SmtpRecorder]:
    server = SmtpRecorder().start()
    yield server
    server.stop()


@pytest.fixture
def setting(app: Flask, tmp_path: Path, postgresql: None) -> Iterator[Setting]:
    with serving_service(app, write_test_form(tmp_path / "forms")) as service:
        yield offer_service(service)


@pytest.fixture
def live_server(app: Flask, tmp_path: Path, smtp: SmtpRecorder, setting: Setting) -> Iterator[LiveServer]:
    port = free_port()
    env = _server_env(app, tmp_path, smtp)
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn",
                "--workers", "2",
                "--bind", f"127.0.0.1:{port}",
                "--timeout", "120",
                "--chdir", str(PROJECT_ROOT),
                # The flow's forms carry CSRF tokens; these clients post without fetching them.
                "app:create_app({'WTF_CSRF_ENABLED': False})",
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(url=f"http://127.0.0.1:{port}", env=env, log=log)
    try:
        if not wait_until(lambda: _healthy(server.url), timeout=60):
            pytest.fail(f"gunicorn did not come up:\n{log.read_text(errors='replace')[-3000:]}")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _apply(server: LiveServer, base: str, n: int) -> str:
    """One citizen: every step over HTTP, then submit; returns the confirmation page's reference."""
    with requests.Session() as browser:
        steps = [
            ("person", {"name": f"Bürgerin Nr. {n}", "email": f"buergerin{n}@example.org"}, None),
            ("antrag", {"bearbeitung": "normal", "anmerkung": f"Zażółć gęślą jaźń {n}"}, None),
            ("nachweise", {"datenschutz": "y"}, {"nachweis": (f"nachweis-{n}.png", png_bytes(n), "image/png")}),  # noqa: E501
        ]
        for step, data, files in steps:
            response = browser.post(f"{base}/apply/{step}", data=data, files=files, allow_redirects=False,
                                    timeout=120)
            assert response.status_code in (302, 303), (step, response.status_code, response.text[:500])
        submitted = browser.post(f"{base}/check", allow_redirects=False, timeout=120)
        assert submitted.status_code == 303, (submitted.status_code, submitted.text[:500])
        confirmation = browser.get(server.url + submitted.headers["Location"], timeout=120)
        assert confirmation.status_code == 200
        match = re.search(r"/status/([A-Z0-9]+-\d{4}-\d{6})\?token=", confirmation.text)
        assert match is not None, "the confirmation shows the status link"
        return match.group(1)


def _open_deliveries() -> int:
    db.session.rollback()
    query = select(func.count()).select_from(Delivery).where(Delivery.state.in_(OPEN_STATES))
    return db.session.scalar(query) or 0


def _run_worker_until_outbox_is_empty(server: LiveServer) -> None:
    for _ in range(10):
        if _open_deliveries() == 0:
            return
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app:create_app", "deliveries", "work", "--once"],
            env=server.env,
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )
    assert _open_deliveries() == 0, "the worker left deliveries in the outbox"


def test_200_concurrent_submissions_get_gap_free_references_pdfs_and_one_mail_each(
    live_server: LiveServer, setting: Setting, smtp: SmtpRecorder
) -> None:
    base = f"{live_server.url}/{setting.commune.slug}/services/{SERVICE_SLUG}"
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
        confirmed = list(pool.map(lambda n: _apply(live_server, base, n), range(SUBMISSIONS)))
    elapsed = time.monotonic() - started

    db.session.rollback()
    rows = db.session.execute(
        select(Submission.reference, Submission.reference_number, Submission.pdf_key).where(
            Submission.commune_id == setting.commune.id
        )
    ).all()
    assert len(rows) == SUBMISSIONS, f"{len(rows)} stored in {elapsed:.1f}s"
    assert sorted(row.reference_number for row in rows) == list(range(1, SUBMISSIONS + 1))
    assert sorted(confirmed) == sorted(row.reference for row in rows)
    assert all(row.pdf_key for row in rows), "every submission has its PDF"
    assert len({row.pdf_key for row in rows}) == SUBMISSIONS

    _run_worker_until_outbox_is_empty(live_server)

    mails = smtp.wait_for(2 * SUBMISSIONS, timeout=30)
    office = Counter(
        # The office mail's Message-ID is <REFERENCE.DELIVERY-ID@domain>.
        mail.message["Message-ID"].strip("<>").split("@")[0].rsplit(".", 1)[0]
        for mail in mails
        if mail.rcpt_tos == (OFFICE_ADDRESS,)
    )
    citizens = Counter(
        re.search(r"[A-Z0-9]+-\d{4}-\d{6}", mail.message["Subject"]).group(0)
        for mail in mails
        if mail.rcpt_tos != (OFFICE_ADDRESS,)
    )
    references = {row.reference for row in rows}
    assert set(office) == references and set(office.values()) == {1}, "each office e-mail exactly once"
    assert set(citizens) == references and set(citizens.values()) == {1}, "each confirmation exactly once"
    assert len(mails) == 2 * SUBMISSIONS
