"""``flask portal ...``: commands for the portal as a whole."""

from __future__ import annotations

import importlib
import importlib.util

import click
from flask import current_app
from flask.cli import AppGroup

from app import FEATURES, encryption
from app.content.search import rebuild_index
from app.extensions import db

cli = AppGroup("portal", help="Kommunalportal: Demo-Daten und Wartung.")


@cli.command("demo")
@click.option(
    "--force",
    is_flag=True,
    help="Demo-Daten auch laden, wenn DEMO_MODE aus ist (etwa in einer Testinstanz im Produktionsmodus).",
)
def demo(force: bool) -> None:
    """Load the demo association, communes and content (idempotent: run it as often as you like).

    Only when DEMO_MODE is on (the default outside production) or with --force. Every
    feature's ``demo.load_demo()`` runs, in the order of FEATURES.
    """
    if not current_app.config["DEMO_MODE"] and not force:
        raise click.ClickException(
            "DEMO_MODE ist aus: Demo-Daten werden nicht geladen. Setzen Sie DEMO_MODE=1 "
            "oder rufen Sie `flask portal demo --force` auf."
        )
    for feature in FEATURES:
        name = f"app.{feature}.demo"
        if importlib.util.find_spec(name) is None:
            continue
        for line in importlib.import_module(name).load_demo():
            click.echo(f"[{feature}] {line}")


@cli.command("reindex")
def reindex() -> None:
    """Rebuild the full-text search index from all content (after a restore or a bulk import)."""
    count = rebuild_index()
    db.session.commit()
    click.echo(f"{count} Inhalte indexiert.")


@cli.command("reencrypt")
def reencrypt() -> None:
    """Store every encrypted secret under the first of DATA_ENCRYPTION_KEYS.

    Covers each column marked as encrypted: staff TOTP secrets, the communes'
    webhook secrets and those kept with each webhook delivery. Run it after
    putting a new key in front (then the old key can go) and once after
    upgrading, for secrets stored in clear text before encryption.
    """
    reports = encryption.reencrypt_all(db.session, encryption.encrypted_columns(db.metadata))
    for report in reports:
        click.echo(f"{report.column}: {report.changed} von {report.total} neu verschlüsselt.")
    undecryptable = [report for report in reports if report.undecryptable]
    if undecryptable:
        raise click.ClickException(
            "Diese Geheimnisse lassen sich mit keinem Schlüssel aus DATA_ENCRYPTION_KEYS entschlüsseln: "
            + "; ".join(
                f"{report.column} id {', '.join(map(str, report.undecryptable))}" for report in undecryptable
            )
        )
