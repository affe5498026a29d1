"""``flask einvoice …``: check invoice files from the command line, as the upload page does."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.einvoice.services import InvoiceRefused, check_invoice
from app.einvoice.validation import ValidationReport, get_validator

cli = AppGroup("einvoice", help="Electronic invoices: validate XRechnung / ZUGFeRD files.")


def _print_report(name: str, report: ValidationReport) -> None:
    verdict = "valid" if report.valid else "INVALID"
    click.echo(f"{name}: {verdict} — {report.scenario or 'no scenario'}")
    for finding in report.findings:
        where = f" at {finding.location}" if finding.location else ""
        line = f" (line {finding.line})" if finding.line else ""
        click.echo(f"  [{finding.severity}] {finding.rule}: {finding.text}{where}{line}")


@cli.command("validate")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--leitweg-id",
    "leitweg_ids",
    multiple=True,
    help="Accept only this buyer reference (BT-10); repeat for several. Without it BT-10 is not matched.",
)
def validate(files: tuple[Path, ...], leitweg_ids: tuple[str, ...]) -> None:
    """Validate invoice FILES (XML or ZUGFeRD/Factur-X PDF) as KoSIT's validator does.

    Exits with status 1 when any file is invalid.
    """
    ids = list(leitweg_ids) if leitweg_ids else None
    all_valid = True
    for path in files:
        try:
            report = check_invoice(path.read_bytes(), path.name, leitweg_ids=ids).report
        except InvoiceRefused as refused:
            report = refused.report
        all_valid = all_valid and report.valid
        _print_report(str(path), report)
    if not all_valid:
        sys.exit(1)


@cli.command("warm-up")
def warm_up() -> None:
    """Compile every schema and stylesheet now (seconds), e.g. to time it or check the resources."""
    validator = get_validator()
    validator.warm_up()
    click.echo(
        f"{validator.compiled_schemas} schema(s) and {validator.compiled_stylesheets} stylesheet(s) compiled."
    )
