"""``flask --app wsgi forms check [PATHS...]``: lint form definitions (plain click, no Flask)."""

from __future__ import annotations

import os
from pathlib import Path

import click

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
