"""``flask efile purge-inspections``: delete long-ended inspection grants, for cron."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from app.efile.inspection import KEEP_ENDED_DAYS, purge_ended_grants

cli = AppGroup("efile", help="E-file export and file inspection.")


@cli.command("purge-inspections")
@click.option(
    "--keep-days",
    type=click.IntRange(min=0),
    default=KEEP_ENDED_DAYS,
    show_default=True,
    help="Keep grants (and their access logs) this many days after they ended.",
)
@with_appcontext
def purge_inspections(keep_days: int) -> None:
    """Delete inspection grants that ended long ago, their access logs and files uploaded for them."""
    report = purge_ended_grants(keep_days=keep_days)
    click.echo(f"{report.grants} ended inspection grant(s) deleted, {report.files} file(s) removed.")
