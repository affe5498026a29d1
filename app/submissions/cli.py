"""``flask submissions …``: the submission pipeline's maintenance commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.staff.inbox.cli import purge_command
from app.submissions.pdf import render_pending_pdfs

cli = AppGroup("submissions", help="Submissions: render missing PDFs.")


@cli.command("render-pdfs")
@click.option("--limit", type=int, default=100, show_default=True, help="Submissions per run.")
def render_pdfs(limit: int) -> None:
    """Render the PDFs of submissions that have none yet (e.g. after a rendering failure)."""
    rendered = render_pending_pdfs(limit=limit)
    click.echo(f"{rendered} PDF(s) rendered.")


cli.add_command(purge_command)
