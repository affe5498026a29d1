"""``flask deliveries …``: run the outbox worker, look at and retry deliveries."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.delivery.models import Delivery, DeliveryState
from app.delivery.services import DeliveryNotRetryable, retry_delivery
from app.delivery.worker import Worker
from app.extensions import db
from app.timeutil import to_berlin

cli = AppGroup("deliveries", help="Deliver submissions to the offices (e-mail, webhook).")


@cli.command("work")
@click.option("--once", is_flag=True, help="Process what is due now, then exit (for cron).")
@click.option("--poll-interval", type=float, default=None, help="Seconds between polls when idle.")
@click.option("--batch-size", type=int, default=None, help="Deliveries claimed per round.")
def work(once: bool, poll_interval: float | None, batch_size: int | None) -> None:
    """Send due deliveries; runs until SIGTERM/SIGINT unless --once is given."""
    config = current_app.config
    worker = Worker(
        poll_seconds=poll_interval if poll_interval is not None else float(config["DELIVERY_POLL_SECONDS"]),
        batch_size=batch_size or int(config["DELIVERY_BATCH_SIZE"]),
    )
    if once:
        attempted = worker.run_until_empty()
        click.echo(f"{attempted} delivery attempt(s) made.")
        return
    worker.run_forever()


@cli.command("list")
@click.option(
    "--state",
    type=click.Choice([s.value for s in DeliveryState]),
    default=None,
    help="Only deliveries in this state.",
)
@click.option("--limit", type=int, default=50, show_default=True)
def list_deliveries(state: str | None, limit: int) -> None:
    """Show the latest deliveries with their attempts and last error."""
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if state:
        query = query.where(Delivery.state == DeliveryState(state))
    for delivery in db.session.scalars(query):
        due = "-"
        if delivery.next_attempt_at is not None:
            due = to_berlin(delivery.next_attempt_at).strftime("%d.%m.%Y %H:%M")
        click.echo(
            f"{delivery.id}\t{delivery.submission.reference}\t{delivery.channel}\t{delivery.target}\t"
            f"{delivery.state}\tattempts={delivery.attempts}\tnext={due}\t{delivery.last_error or ''}"
        )


@cli.command("retry")
@click.argument("delivery_id", type=int)
def retry(delivery_id: int) -> None:
    """Put a failed delivery back in the queue, due now."""
    try:
        retry_delivery(delivery_id, "cli")
    except DeliveryNotRetryable as exc:
        db.session.rollback()
        raise click.ClickException(
            f"Delivery {delivery_id} cannot be retried: it is delivered, being sent, or unknown."
        ) from exc
    db.session.commit()
    click.echo(f"Delivery {delivery_id} is due again.")
