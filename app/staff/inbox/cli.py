"""``flask submissions purge``: the retention run, for cron.

The command joins the ``submissions`` group of :mod:`app.submissions.cli`.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.staff.inbox.retention import purge


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only list what is due; change nothing.")
@with_appcontext
def purge_command(dry_run: bool) -> None:
    """Anonymise submissions past their retention period and delete expired drafts.

    Safe to run repeatedly and from several hosts at once; every anonymised submission
    is recorded in the audit log.
    """
    report = purge(dry_run=dry_run)
    if dry_run:
        click.echo(f"Dry run: {len(report.anonymised)} submission(s) and {report.drafts} draft(s) are due.")
        for reference in report.anonymised:
            click.echo(f"  due: {reference}")
        return
    for reference in report.anonymised:
        click.echo(f"  anonymised: {reference}")
    for reference in report.skipped:
        click.echo(f"  skipped (done by another run): {reference}")
    click.echo(
        f"{len(report.anonymised)} submission(s) anonymised, {report.drafts} expired draft(s) deleted, "
        f"{report.files} file(s) removed."
    )
