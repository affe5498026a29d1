"""The start-up cache: one file per forms/ folder; unchanged files are not parsed again, any
change is, and a damaged, partial or foreign cache file is never used."""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.formspec import load_catalogue, speccache
from app.formspec import loader as formspec_loader
from app.formspec.model import ServiceSpec

from .builders import FORMS_DIR, SERVICE_HEAD, form_yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _forms(tmp_path: Path) -> Path:
    forms = tmp_path / "forms"
    (forms / "catalogue").mkdir(parents=True)
    (forms / "gemeinde").mkdir()
    (forms / "catalogue" / "dienst.yaml").write_text(
        form_yaml("- {name: vorname, type: text, label: Vorname}"), encoding="utf-8"
    )
    (forms / "gemeinde" / "dienst.yaml").write_text("extends: dienst\ntitle: Angepasst\n", encoding="utf-8")
    return forms


def _cache_file(cache: Path) -> Path:
    files = list(cache.iterdir())
    assert len(files) == 1, files
    return files[0]


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
    assert warm.get("dienst").source == cold.get("dienst").source
    assert warm.get("dienst", "gemeinde").title == "Angepasst"
    assert warm.get("dienst", "gemeinde").commune == "gemeinde"


def test_the_whole_catalogue_is_one_cache_file(tmp_path: Path) -> None:
    forms, cache = _forms(tmp_path), tmp_path / "cache"
    load_catalogue(forms, cache)
    entries = speccache.decode(_cache_file(cache).read_bytes())
    assert entries is not None
    assert sorted((service.slug, service.commune or "") for service in entries.values()) == [
        ("dienst", ""),
        ("dienst", "gemeinde"),
    ]


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
    entries = speccache.decode(_cache_file(cache).read_bytes())
    assert entries is not None and len(entries) == 2, "entries of the old version are dropped"
    parse_calls.clear()
    assert load_catalogue(forms, cache).get("dienst").form.field("vorname").label == "Rufname"
    assert parse_calls == []


def test_a_changed_override_alone_is_parsed_again_against_the_cached_service(
    tmp_path: Path, parse_calls: list[str]
) -> None:
    forms, cache = _forms(tmp_path), tmp_path / "cache"
    load_catalogue(forms, cache)
    parse_calls.clear()
    (forms / "gemeinde" / "dienst.yaml").write_text("extends: dienst\ntitle: Neu\n", encoding="utf-8")
    catalogue = load_catalogue(forms, cache)
    assert parse_calls == ["forms/gemeinde/dienst.yaml"]
    assert catalogue.get("dienst", "gemeinde").title == "Neu"
    assert catalogue.get("dienst", "gemeinde").form.field("vorname") is not None


def test_a_removed_file_leaves_the_catalogue_and_the_cache(tmp_path: Path) -> None:
    forms, cache = _forms(tmp_path), tmp_path / "cache"
    load_catalogue(forms, cache)
    (forms / "gemeinde" / "dienst.yaml").unlink()
    catalogue = load_catalogue(forms, cache)
    assert catalogue.get("dienst", "gemeinde").commune is None
    entries = speccache.decode(_cache_file(cache).read_bytes())
    assert entries is not None and [service.commune for service in entries.values()] == [None]


def test_a_broken_file_is_never_cached_and_always_reported(tmp_path: Path) -> None:
    forms, cache = _forms(tmp_path), tmp_path / "cache"
    (forms / "catalogue" / "kaputt.yaml").write_text(SERVICE_HEAD + "onlin: false\n", encoding="utf-8")
    first, second = load_catalogue(forms, cache), load_catalogue(forms, cache)
    assert [(error.file, error.line, error.key) for error in first.errors] == [
        ("forms/catalogue/kaputt.yaml", 5, "onlin")
    ]
    assert second.errors == first.errors


def test_a_broken_override_is_reported_alike_with_and_without_the_cache(tmp_path: Path) -> None:
    forms, cache = _forms(tmp_path), tmp_path / "cache"
    load_catalogue(forms, cache)
    (forms / "gemeinde" / "dienst.yaml").write_text(
        "extends: dienst\n"
        "add_fields:\n"
        "  - step: angaben\n"
        "    fieldset: angaben\n"
        "    fields:\n"
        "      - {name: vorname, type: text, label: Noch einmal}\n",
        encoding="utf-8",
    )
    without = load_catalogue(forms)
    with_cache = load_catalogue(forms, cache)
    messages = [str(error) for error in without.errors]
    assert any("forms/catalogue/dienst.yaml, Zeile 12" in message for message in messages), messages
    assert [str(error) for error in with_cache.errors] == messages


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: b"not a cache", id="garbage"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data[: len(data) // 2], id="cut-off"),
        pytest.param(lambda data: data[:-10] + bytes(10), id="payload-changed"),
        pytest.param(
            lambda data: data[: len(speccache.MAGIC)] + bytes(32) + data[len(speccache.MAGIC) + 32 :],
            id="other-code-version",
        ),
        pytest.param(
            lambda data: speccache.MAGIC.replace(b"cache", b"kache") + data[len(speccache.MAGIC) :],
            id="other-format",
        ),
    ],
)
def test_a_damaged_cache_file_is_never_used_and_replaced(
    tmp_path: Path, parse_calls: list[str], damage: Any
) -> None:
    forms, cache = _forms(tmp_path), tmp_path / "cache"
    load_catalogue(forms, cache)
    file = _cache_file(cache)
    file.write_bytes(damage(file.read_bytes()))
    assert speccache.decode(file.read_bytes()) is None
    parse_calls.clear()
    catalogue = load_catalogue(forms, cache)
    assert catalogue.errors == [] and catalogue.get("dienst", "gemeinde").title == "Angepasst"
    assert len(parse_calls) == 2
    assert speccache.decode(_cache_file(cache).read_bytes()) is not None, "rewritten whole"


def test_a_checksummed_payload_that_is_no_catalogue_is_not_used(tmp_path: Path) -> None:
    payload = pickle.dumps({"key": "not a service"})
    data = speccache.encode({})
    header = data[: speccache.HEADER_SIZE - 40]
    import hashlib

    forged = header + len(payload).to_bytes(8, "big") + hashlib.sha256(payload).digest() + payload
    assert speccache.decode(forged) is None
    assert speccache.decode(data) == {}


def test_a_failed_write_leaves_no_file_and_breaks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parse_calls: list[str]
) -> None:
    forms, cache = _forms(tmp_path), tmp_path / "cache"

    replace = os.replace

    def failing(source: Any, target: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(speccache.os, "replace", failing)
    catalogue = load_catalogue(forms, cache)
    assert catalogue.get("dienst") is not None and catalogue.errors == []
    assert list(cache.iterdir()) == [], "the temporary file is removed"
    monkeypatch.setattr(speccache.os, "replace", replace)
    parse_calls.clear()
    load_catalogue(forms, cache)
    assert len(parse_calls) == 2


def test_forms_folders_sharing_a_cache_folder_do_not_mix(tmp_path: Path) -> None:
    first, cache = _forms(tmp_path / "a"), tmp_path / "cache"
    second = _forms(tmp_path / "b")
    (second / "catalogue" / "dienst.yaml").write_text(
        form_yaml("- {name: rufname, type: text, label: Rufname}"), encoding="utf-8"
    )
    for _ in range(2):
        assert load_catalogue(first, cache).get("dienst").form.field("vorname") is not None
        assert load_catalogue(second, cache).get("dienst").form.field("rufname") is not None
    assert len(list(cache.iterdir())) == 2


def test_every_shipped_service_survives_the_cache_unchanged(tmp_path: Path) -> None:
    cold = load_catalogue(FORMS_DIR)
    load_catalogue(FORMS_DIR, tmp_path)
    warm = load_catalogue(FORMS_DIR, tmp_path)
    pairs = [(cold.services, warm.services)] + [
        (own, warm.commune_services[commune]) for commune, own in cold.commune_services.items()
    ]
    for before, after in pairs:
        assert before.keys() == after.keys()
        for slug, service in before.items():
            cached = after[slug]
            assert cached is not service
            for name in ServiceSpec.__dataclass_fields__:
                assert getattr(cached, name) == getattr(service, name), (slug, name)


def test_the_source_is_decoded_only_when_read(tmp_path: Path) -> None:
    forms, cache = _forms(tmp_path), tmp_path / "cache"
    expected = load_catalogue(forms, cache).get("dienst").source
    service = load_catalogue(forms, cache).get("dienst")
    assert "source" not in vars(service)
    assert service.source == expected and service.source is service.source
    with pytest.raises(AttributeError):
        service.no_such_attribute  # noqa: B018


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_restores_the_garbage_collector(tmp_path: Path, enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        load_catalogue(_forms(tmp_path), tmp_path / "cache")
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


WORKER = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from app.formspec import load_catalogue
for _ in range(5):
    catalogue = load_catalogue(Path({forms!r}), Path({cache!r}))
    assert catalogue.errors == [] and catalogue.get("dienst", "gemeinde").title == "Angepasst"
"""


def test_workers_starting_together_never_corrupt_the_cache(tmp_path: Path) -> None:
    forms, cache = _forms(tmp_path), tmp_path / "cache"
    for number in range(20):
        (forms / "catalogue" / f"dienst-{number}.yaml").write_text(
            form_yaml(f"- {{name: feld_{number}, type: text, label: Feld {number}}}"), encoding="utf-8"
        )
    script = WORKER.format(root=str(PROJECT_ROOT), forms=str(forms), cache=str(cache))
    workers = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(4)]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0, 0]
    entries = speccache.decode(_cache_file(cache).read_bytes())
    assert entries is not None and len(entries) == 22
    assert not [name for name in os.listdir(cache) if name.endswith(".tmp")]
