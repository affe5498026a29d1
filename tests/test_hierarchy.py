"""The layering of DESIGN.md, enforced by reading imports.

1. Core (formspec, documents) imports neither Flask nor the database nor other app packages.
2. Domain modules (models, services) never import a web module (views, api).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
CORE = ("formspec", "documents")
FORBIDDEN_IN_CORE = ("flask", "flask_sqlalchemy", "flask_babel", "flask_wtf", "flask_login", "sqlalchemy")
WEB_MODULE_NAMES = ("views", "web", "staff_views", "flow", "status")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", CORE)
def test_core_imports_neither_flask_nor_database(package: str) -> None:
    offending = []
    for path in sorted((APP / package).rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in FORBIDDEN_IN_CORE:
                offending.append(f"{path.relative_to(APP)} imports {name}")
            if name.startswith("app.") and not name.startswith(f"app.{package}"):
                offending.append(f"{path.relative_to(APP)} imports {name}")
    assert offending == []


def test_domain_never_imports_views() -> None:
    offending = []
    for path in sorted(APP.rglob("*.py")):
        if path.stem not in ("models", "services"):
            continue
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "app" and parts[-1] in WEB_MODULE_NAMES:
                offending.append(f"{path.relative_to(APP)} imports {name}")
    assert offending == []
