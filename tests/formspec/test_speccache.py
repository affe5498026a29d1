"""The start-up cache: unchanged files are not parsed again, any change is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.formspec import load_catalogue
from app.formspec import loader as formspec_loader

from .builders import SERVICE_HEAD, form_yaml


def _forms(tmp_path: Path) -> Path:
    forms = tmp_path / "forms"
    (forms / "catalogue").mkdir(parents=True)
    (forms / "gemeinde").mkdir()
    (forms / "catalogue" / "dienst.yaml").write_text(
        form_yaml("- {name: vorname, type: text, label: Vorname}"), encoding="utf-8"
    )
    (forms / "gemeinde" / "dienst.yaml").write_text("extends: dienst\ntitle: Angepasst\n", encoding="utf-8")
    return forms


@pytest.fixture
def parse_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = formspec_loader.parse_service

    def counting(data: Any, slug: str, file: str, **kwargs: Any) -> Any:
        calls.append(file)
        return original(data, slug, file, **kwargs)

    monkeypatch.setattr(formspec_loader, "parse_service", counting)
    return calls


def test_a_warm_cache_returns_the_same_services_without_parsing(
    tmp_path: Path, parse_calls: list[str]
) -> None:
    forms, cache = _forms(tmp_path), tmp_path / "cache"
    cold = load_catalogue(forms, cache)
    assert len(parse_calls) == 2
    parse_calls.clear()
    warm = load_catalogue(forms, cache)
    assert parse_calls == []
    assert warm.get("dienst").version == cold.get("dienst").version
    assert warm.get("dienst").form == cold.get("dienst").form
    assert warm.get("dienst", "gemeinde").title == "Angepasst"
    assert warm.get("dienst", "gemeinde").commune == "gemeinde"


def test_a_changed_file_is_parsed_again_and_its_override_too(tmp_path: Path, parse_calls: list[str]) -> None:
    forms, cache = _forms(tmp_path), tmp_path / "cache"
    load_catalogue(forms, cache)
    parse_calls.clear()
    path = forms / "catalogue" / "dienst.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("label: Vorname", "label: Rufname"), encoding="utf-8"
    )
    catalogue = load_catalogue(forms, cache)
    assert parse_calls == ["forms/catalogue/dienst.yaml", "forms/gemeinde/dienst.yaml"]
    assert catalogue.get("dienst", "gemeinde").form.field("vorname").label == "Rufname"
    assert len(list(cache.glob("*.spec"))) == 2, "entries of the old version are pruned"


def test_a_broken_file_is_never_cached_and_always_reported(tmp_path: Path) -> None:
    forms, cache = _forms(tmp_path), tmp_path / "cache"
    (forms / "catalogue" / "kaputt.yaml").write_text(SERVICE_HEAD + "onlin: false\n", encoding="utf-8")
    assert len(load_catalogue(forms, cache).errors) == 1
    assert len(load_catalogue(forms, cache).errors) == 1


def test_a_damaged_entry_is_ignored_and_replaced(tmp_path: Path, parse_calls: list[str]) -> None:
    forms, cache = _forms(tmp_path), tmp_path / "cache"
    load_catalogue(forms, cache)
    for entry in cache.glob("*.spec"):
        entry.write_bytes(b"not a pickle")
    parse_calls.clear()
    catalogue = load_catalogue(forms, cache)
    assert catalogue.errors == [] and catalogue.get("dienst") is not None
    assert len(parse_calls) == 2
