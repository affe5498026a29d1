"""The portal's start-up reads unchanged definitions from the cache in its instance folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from submission_builders import PROBE, write_probe_forms

from app.catalogue.services import EXTENSION_KEY, load_into_app, spec_cache_dir
from app.formspec import loader as formspec_loader


def test_the_cache_lives_in_the_instance_folder_unless_configured(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    assert spec_cache_dir(app) == tmp_path / "instance" / "formspec-cache"
    app.config["TESTING"] = True
    assert spec_cache_dir(app) is None, "tests parse unless they ask for the cache"
    app.config["FORMSPEC_CACHE_DIR"] = str(tmp_path / "elsewhere")
    assert spec_cache_dir(app) == tmp_path / "elsewhere"
    app.config["FORMSPEC_CACHE_DIR"] = ""
    assert spec_cache_dir(app) is None


def test_a_second_start_takes_the_definitions_from_the_cache(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forms_dir = write_probe_forms(tmp_path / "forms")
    parsed: list[str] = []
    original = formspec_loader.parse_service

    def counting(data: Any, slug: str, file: str, **kwargs: Any) -> Any:
        parsed.append(slug)
        return original(data, slug, file, **kwargs)

    monkeypatch.setattr(formspec_loader, "parse_service", counting)
    previous = app.extensions.get(EXTENSION_KEY)
    monkeypatch.setitem(app.config, "FORMS_DIR", str(forms_dir))
    monkeypatch.setitem(app.config, "FORMSPEC_CACHE_DIR", str(tmp_path / "cache"))
    try:
        first = load_into_app(app)
        assert PROBE in parsed
        parsed.clear()
        second = load_into_app(app)
    finally:
        app.extensions[EXTENSION_KEY] = previous
    assert parsed == []
    assert second.services.keys() == first.services.keys()
    assert second.get(PROBE).version == first.get(PROBE).version
    assert len(list((tmp_path / "cache").iterdir())) == 1
