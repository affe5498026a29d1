"""The Alembic migrations build exactly the schema the models describe.

Runs ``flask db upgrade`` on an empty database of the suite's kind (a new SQLite
file, or a scratch PostgreSQL database next to TEST_DATABASE_URL) and compares
the result with the models' metadata.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from app.config import normalise_database_url
from app.extensions import db

#: Tables that search and the database engine create outside the models.
NOT_IN_MODELS_PREFIXES = ("content_search", "alembic_version", "sqlite_")
#: Indexes and columns the search DDL adds beside the models (see the migration).
DDL_INDEXES = {"ix_submission_search", "ix_submission_reference_prefix", "ix_content_search_entry_document"}
DDL_COLUMNS = {("submission", "search_vector")}


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    base = make_url(normalise_database_url(url))
    name = f"kp_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _relevant(diff: object) -> bool:
    # compare_metadata yields tuples (or lists of tuples for column changes).
    entry = diff[0] if isinstance(diff, list) else diff
    kind = entry[0]
    if kind == "remove_table":
        return not entry[1].name.startswith(NOT_IN_MODELS_PREFIXES)
    if kind == "remove_index":
        index = entry[1]
        if index.name in DDL_INDEXES:
            return False
        return not (index.table is not None and index.table.name.startswith(NOT_IN_MODELS_PREFIXES))
    if kind == "remove_column":
        return (entry[2], entry[3].name) not in DDL_COLUMNS
    return True


def test_migrations_build_the_models_schema(empty_database: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "TESTING": True})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = [d for d in compare_metadata(context, db.metadata) if _relevant(d)]
        assert differences == []
        db.engine.dispose()


def test_migrations_downgrade_to_empty(empty_database: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "TESTING": True})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = [t for t in inspect(db.engine).get_table_names() if t != "alembic_version"]
        assert tables == []
        db.engine.dispose()
