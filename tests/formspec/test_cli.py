"""forms check: file:line: key: message per error, exit status 1 on errors, a summary otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from app.formspec.cli import cli

from .builders import FORMS_DIR, SERVICE_HEAD


def test_check_passes_on_the_shipped_forms() -> None:
    result = CliRunner().invoke(cli, ["check", str(FORMS_DIR)])
    assert result.exit_code == 0, result.output
    assert "Dateien geprüft, keine Fehler." in result.output


def test_check_defaults_to_forms_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORMS_DIR", str(FORMS_DIR))
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 0, result.output


def test_check_names_file_line_and_key_and_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    forms = tmp_path / "forms"
    (forms / "catalogue").mkdir(parents=True)
    (forms / "catalogue" / "a.yaml").write_text(SERVICE_HEAD + "onlin: false\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", "forms"])
    assert result.exit_code == 1
    assert (
        "forms/catalogue/a.yaml:5: onlin: Dienst: unbekannter Schlüssel „onlin“ – meinten Sie „online“?"
        in (result.output)
    )
    assert "1 Fehler in 1 von 1 Dateien." in result.output


def test_schema_command_writes_the_format_schema(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    result = CliRunner().invoke(cli, ["schema", "--output", str(target)])
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") == (FORMS_DIR / "schema.json").read_text(encoding="utf-8")
