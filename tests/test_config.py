"""Settings from the environment: what production refuses to start without."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.config import DEFAULT_SECRET_KEY, ConfigurationError, development_encryption_key, load_config

PRODUCTION_SECRET = "x" * 48


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("PORTAL_ENV", "SECRET_KEY", "DATA_ENCRYPTION_KEYS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_refuses_to_start_without_data_encryption_keys(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environment.setenv("PORTAL_ENV", "production")
    environment.setenv("SECRET_KEY", PRODUCTION_SECRET)
    with pytest.raises(ConfigurationError, match="DATA_ENCRYPTION_KEYS"):
        load_config(tmp_path)
    environment.setenv("DATA_ENCRYPTION_KEYS", " , ")
    with pytest.raises(ConfigurationError, match="DATA_ENCRYPTION_KEYS"):
        load_config(tmp_path)


def test_production_takes_the_keys_in_order(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    environment.setenv("PORTAL_ENV", "production")
    environment.setenv("SECRET_KEY", PRODUCTION_SECRET)
    environment.setenv("DATA_ENCRYPTION_KEYS", f"{new}, {old}")
    assert load_config(tmp_path)["DATA_ENCRYPTION_KEYS"] == [new, old]


@pytest.mark.parametrize("bad", ["kurz", "x" * 44, Fernet.generate_key().decode()[:-4]])
def test_a_key_that_is_not_a_fernet_key_is_refused(
    environment: pytest.MonkeyPatch, tmp_path: Path, bad: str
) -> None:
    environment.setenv("DATA_ENCRYPTION_KEYS", f"{Fernet.generate_key().decode()},{bad}")
    with pytest.raises(ConfigurationError, match="key 2 is not a Fernet key"):
        load_config(tmp_path)


def test_development_derives_a_stable_key_from_the_secret_key(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environment.setenv("SECRET_KEY", "entwicklung")
    [key] = load_config(tmp_path)["DATA_ENCRYPTION_KEYS"]  # type: ignore[misc]
    assert key == development_encryption_key("entwicklung")
    assert key != development_encryption_key("etwas anderes")
    assert key != "entwicklung"
    Fernet(key)  # a usable key
    environment.delenv("SECRET_KEY")
    assert load_config(tmp_path)["DATA_ENCRYPTION_KEYS"] == [development_encryption_key(DEFAULT_SECRET_KEY)]


def test_the_form_cache_folder_comes_from_the_environment_when_set(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environment.delenv("FORMSPEC_CACHE_DIR", raising=False)
    assert "FORMSPEC_CACHE_DIR" not in load_config(tmp_path)  # the instance folder's default
    environment.setenv("FORMSPEC_CACHE_DIR", str(tmp_path / "cache"))
    assert load_config(tmp_path)["FORMSPEC_CACHE_DIR"] == str(tmp_path / "cache")
    environment.setenv("FORMSPEC_CACHE_DIR", "")
    assert load_config(tmp_path)["FORMSPEC_CACHE_DIR"] == ""  # no cache
