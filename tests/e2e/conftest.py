"""Real-browser tests: the portal as a real HTTP server, Debian's Chromium, axe-core.

The server is the portal itself (``create_app``) behind werkzeug's threaded server on
127.0.0.1, with its own database loaded by ``flask portal demo``: a temporary SQLite
file, or, when TEST_DATABASE_URL names a PostgreSQL server, a fresh database
``<name>_e2e`` beside the suite's (whose tables the suite empties after each test).

The browser is /usr/bin/chromium (Debian's package ``chromium``), never a downloaded
build. Without it the tests are skipped with the reason, except under CI, where a
missing browser fails them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import CHROMIUM, CHROMIUM_ARGS, NARROW_VIEWPORT, Portal, discover_pages, offered_forms
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from app import create_app
from app.config import normalise_database_url
from app.extensions import db
from app.formspec.model import ServiceSpec


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = (
        f"{CHROMIUM} is missing: install Debian's package (apt-get install chromium, "
        "or scripts/ensure-test-tools) to run the browser tests"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _e2e_database(tmp_root: Path) -> Iterator[str]:
    """The URL of an empty database for the server; dropped again afterwards."""
    suite_url = os.environ.get("TEST_DATABASE_URL")
    if not suite_url:
        yield f"sqlite:///{tmp_root / 'e2e.db'}"
        return
    url = make_url(normalise_database_url(suite_url))
    name = f"{url.database}_e2e"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """The portal with the demo data, served on 127.0.0.1 at a free port."""
    _require_chromium()
    root = tmp_path_factory.mktemp("e2e")
    database = _e2e_database(root)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": next(database),
            "STORAGE_DIR": str(root / "storage"),
            "RATELIMIT_ENABLED": False,
            "MAIL_ENABLED": False,
            "DEMO_MODE": True,
            "SERVER_NAME": None,
        }
    )
    with app.app_context():
        db.create_all()
    result = app.test_cli_runner().invoke(args=["portal", "demo"])
    assert result.exit_code == 0, f"`flask portal demo` failed:\n{result.output}\n{result.exception!r}"
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-portal", daemon=True)
    thread.start()
    try:
        yield Portal(url=f"http://127.0.0.1:{server.server_port}", app=app, pages=discover_pages(app))
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        database.close()


@pytest.fixture(scope="session")
def offers(portal: Portal) -> dict[str, tuple[str, ServiceSpec]]:
    """Each online service of the demo → (a commune offering it, its form there)."""
    return offered_forms(portal.app)


@pytest.fixture(scope="session")
def browser(portal: Portal) -> Iterator[Any]:
    """Debian's Chromium, headless, for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _new_page(browser: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab (own cookies) in a desktop-sized window."""
    page = _new_page(browser, {"width": 1280, "height": 900})
    yield page
    page.context.close()


@pytest.fixture
def narrow_page(browser: Any) -> Iterator[Any]:
    """A fresh tab 320 CSS pixels wide: what 400 % zoom leaves of a 1280 px window."""
    page = _new_page(browser, NARROW_VIEWPORT)
    yield page
    page.context.close()
