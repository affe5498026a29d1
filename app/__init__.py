"""Kommunalportal: one Flask application for every member commune of the association."""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import load_config

#: Feature packages, in the order their blueprints and commands are wired.
#: Each may have ``models.py``, ``views.py`` (``bp``; ``bps`` for several) and
#: ``cli.py`` (``cli``, a click group).
FEATURES = (
    "tenancy",
    "formspec",
    "portal",
    "content",
    "catalogue",
    "submissions",
    "einvoice",
    "delivery",
    "staff",
    "efile",
    "api",
)


def _feature_module(feature: str, name: str) -> Any | None:
    dotted = f"app.{feature}.{name}"
    if importlib.util.find_spec(dotted) is None:
        return None
    return importlib.import_module(dotted)


def import_models() -> None:
    """Import every feature's models so the metadata is complete."""
    for feature in FEATURES:
        _feature_module(feature, "models")


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the portal: configuration, extensions, blueprints, commands."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        static_folder=str(Path(__file__).resolve().parent.parent / "static"),
    )
    app.config.update(load_config(Path(app.instance_path)))
    if overrides:
        app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=app.config["LOG_LEVEL"],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if app.config["PROXY_FIX"]:
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from app import database, i18n, pagecache, security, web  # noqa: F401  (database: SQLite pragmas)
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate

    import_models()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    babel.init_app(app, locale_selector=i18n.select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    web.init_app(app)

    for feature in FEATURES:
        views = _feature_module(feature, "views")
        if views is not None:
            for bp in getattr(views, "bps", None) or [views.bp]:
                app.register_blueprint(bp)
        commands = _feature_module(feature, "cli")
        if commands is not None:
            app.cli.add_command(commands.cli)
        setup = _feature_module(feature, "setup")
        if setup is not None:
            setup.init_app(app)
    # Last: its after_request keeps a page before any other hook adds its per-response headers.
    pagecache.init_app(app)
    return app
