"""``flask --app wsgi forms check [PATHS...]``: lint form definitions (plain click, no Flask)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from app.formspec.formatschema import format_schema_text
from app.formspec.loader import check_paths


@click.group("forms", help="Formulardefinitionen (forms/*.yaml) prüfen.")
def cli() -> None:
    """The ``forms`` command group."""


@cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def check(paths: tuple[Path, ...]) -> None:
    """Prüft Formulardefinitionen und nennt jeden Fehler mit Datei, Zeile und Schlüssel.

    Ohne PATHS wird der Ordner aus FORMS_DIR geprüft, sonst ./forms.
    """
    targets = list(paths) or [Path(os.environ.get("FORMS_DIR") or "forms")]
    report = check_paths(targets)
    for error in report.errors:
        click.echo(str(error))
    if report.errors:
        files = len({error.file for error in report.errors})
        click.echo(f"{len(report.errors)} Fehler in {files} von {report.files_checked} Dateien.", err=True)
        raise SystemExit(1)
    click.echo(f"{report.files_checked} Dateien geprüft, keine Fehler.")


@cli.command("schema")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Zieldatei (Standard: schema.json im Ordner aus FORMS_DIR bzw. ./forms).",
)
def schema(output: Path | None) -> None:
    """Schreibt forms/schema.json neu (JSON Schema des Formats für Editoren)."""
    target = output or Path(os.environ.get("FORMS_DIR") or "forms") / "schema.json"
    target.write_text(format_schema_text(), encoding="utf-8")
    click.echo(f"{target} geschrieben.")
