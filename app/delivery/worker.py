"""Working through the outbox: claim what is due, send it, record the outcome.

A round claims due rows in one short transaction (PostgreSQL: ``FOR UPDATE
SKIP LOCKED``; every database: a conditional UPDATE whose row count tells
whether this worker won the row), commits, sends without holding a
transaction, and records the result in another short transaction. A claim is a
lease: the row is ``sending`` until ``claimed_until``. A worker that dies after
claiming leaves the row to whichever worker comes along after the lease; the
attempt it started counts. Each message carries the delivery's idempotency
key, so a receiver that gets a message twice (a worker died after sending but
before recording) can tell.

Rows wait, without spending attempts, until their submission has a PDF. A delivered row's
payload (the citizen's confirmation, which holds the plain tracking token) is erased in the
same UPDATE that records the delivery.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from blinker import Namespace
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, joinedload

from app.delivery.channels import (
    DeliveryError,
    Parcel,
    ParcelAttachment,
    PermanentDeliveryError,
    post_webhook,
    send_citizen_email,
    send_office_email,
)
from app.delivery.models import (
    OPEN_STATES,
    Delivery,
    DeliveryChannel,
    DeliveryState,
    idempotency_key,
)
from app.extensions import db
from app.submissions.models import Submission
from app.timeutil import utcnow

log = logging.getLogger(__name__)

_signals = Namespace()

#: Sent by the long-running worker at the start of every round, with the app as
#: sender. Other features connect work that belongs in the same process, such as
#: rendering PDFs whose first rendering failed (deliveries wait for the PDF).
worker_round = _signals.signal("delivery-worker-round")

_MAX_ERROR_LENGTH = 4000


@dataclass(frozen=True)
class Outcome:
    """What one attempt did."""

    delivery_id: int
    channel: DeliveryChannel | None
    state: DeliveryState
    error: str | None = None


def worker_name() -> str:
    """This process, as written into ``claimed_by``."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: base, 2×base, 4×base, …, capped."""
    config = current_app.config
    base = int(config["DELIVERY_BACKOFF_SECONDS"])
    cap = int(config["DELIVERY_BACKOFF_MAX_SECONDS"])
    exponent = min(max(attempts - 1, 0), 30)
    return timedelta(seconds=min(base * 2**exponent, cap))


@contextmanager
def _session() -> Iterator[Session]:
    """A session of its own, so the caller's session (a web request's) is left alone."""
    session = Session(db.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


def _claimable(now: datetime) -> list[Any]:
    return [
        Delivery.state.in_(OPEN_STATES),
        Delivery.next_attempt_at <= now,
        or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
    ]


def claim_due(
    *,
    now: datetime | None = None,
    limit: int = 20,
    worker: str | None = None,
    only_ids: Iterable[int] | None = None,
) -> list[tuple[int, str]]:
    """Claim up to ``limit`` due deliveries whose submission has its PDF.

    Returns ``(delivery id, claim token)`` pairs; the claim is committed before
    this returns. Each claim counts as an attempt.
    """
    now = now or utcnow()
    lease = timedelta(seconds=int(current_app.config["DELIVERY_LEASE_SECONDS"]))
    worker = worker or worker_name()
    query = (
        select(Delivery.id)
        .join(Submission, Submission.id == Delivery.submission_id)
        .where(*_claimable(now), Submission.pdf_key.is_not(None))
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if only_ids is not None:
        query = query.where(Delivery.id.in_(list(only_ids)))
    claimed: list[tuple[int, str]] = []
    with _session() as session:
        if session.get_bind().dialect.name == "postgresql":
            # Rows another worker is claiming right now are skipped, not waited for.
            candidates = session.scalars(query.with_for_update(skip_locked=True, of=Delivery)).all()
        else:
            candidates = session.scalars(query).all()
            # End the read so the UPDATEs below start a write transaction of their own.
            session.rollback()
        for delivery_id in candidates:
            token = f"{worker}:{secrets.token_hex(4)}"
            result = session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, *_claimable(now))
                .values(
                    state=DeliveryState.SENDING,
                    claimed_by=token,
                    claimed_until=now + lease,
                    attempts=Delivery.attempts + 1,
                    last_attempt_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                claimed.append((delivery_id, token))
        session.commit()
    return claimed


def _parcel(session: Session, delivery_id: int) -> tuple[Parcel, int]:
    delivery = session.scalars(
        select(Delivery)
        .where(Delivery.id == delivery_id)
        .options(
            joinedload(Delivery.submission).joinedload(Submission.commune),
            joinedload(Delivery.submission).joinedload(Submission.office),
            joinedload(Delivery.submission).selectinload(Submission.attachments),
        )
    ).one()
    submission = delivery.submission
    if submission.pdf_key is None:
        raise DeliveryError(_("Das PDF des Antrags ist nicht mehr vorhanden."))
    parcel = Parcel(
        delivery_id=delivery.id,
        idempotency_key=idempotency_key(submission.reference, delivery.id),
        channel=delivery.channel,
        target=delivery.target,
        signing_secret=delivery.signing_secret,
        reference=submission.reference,
        service_slug=submission.service_slug,
        service_title=submission.service_title,
        commune_slug=submission.commune.slug,
        commune_name=submission.commune.name,
        office_id=submission.office.id,
        office_name=submission.office.name,
        submitted_at=submission.submitted_at,
        status=str(submission.status),
        answers=submission.answers,
        submitter_name=submission.submitter_name,
        submitter_email=submission.submitter_email,
        pdf_key=submission.pdf_key,
        pdf_sha256=submission.pdf_sha256,
        attachments=tuple(
            ParcelAttachment(
                id=a.id,
                filename=a.filename,
                media_type=a.media_type,
                size=a.size,
                sha256=a.sha256,
                storage_key=a.storage_key,
            )
            for a in submission.attachments
        ),
        payload=delivery.payload,
    )
    return parcel, delivery.attempts


def _record_success(delivery_id: int, now: datetime, note: str | None) -> None:
    with _session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.state != DeliveryState.DELIVERED)
            .values(
                payload_stored=None,
                state=DeliveryState.DELIVERED,
                delivered_at=now,
                next_attempt_at=None,
                last_error=note,
                claimed_by=None,
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()


def _record_failure(
    delivery_id: int, token: str, error: str, *, permanent: bool, now: datetime
) -> DeliveryState | None:
    """Schedule the next attempt, or give up after the last; None if the row is no longer ours."""
    with _session() as session:
        attempts = session.scalar(
            select(Delivery.attempts).where(Delivery.id == delivery_id, Delivery.claimed_by == token)
        )
        if attempts is None:
            return None
        final = permanent or attempts >= int(current_app.config["DELIVERY_MAX_ATTEMPTS"])
        state = DeliveryState.FAILED if final else DeliveryState.PENDING
        # Only while this worker still holds the row: after a lost lease the row is someone else's.
        result = session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.claimed_by == token)
            .values(
                state=state,
                next_attempt_at=None if final else now + backoff(attempts),
                last_error=error[:_MAX_ERROR_LENGTH],
                claimed_by=None,
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return state if result.rowcount == 1 else None


def deliver_claimed(
    delivery_id: int, token: str, *, now: datetime | None = None, timeout: float | None = None
) -> Outcome:
    """Send one claimed delivery and record what happened; never raises for a failed send."""
    now = now or utcnow()
    if timeout is None:
        timeout = float(current_app.config["DELIVERY_TIMEOUT_SECONDS"])
    channel: DeliveryChannel | None = None
    attempts = 0
    # Errors are kept for staff, who read German, whatever language the citizen's request used.
    with force_locale("de"):
        try:
            with _session() as session:
                parcel, attempts = _parcel(session, delivery_id)
            channel = DeliveryChannel(parcel.channel)
            if channel is DeliveryChannel.EMAIL:
                note = send_office_email(parcel, timeout=timeout)
            elif channel is DeliveryChannel.CITIZEN_EMAIL:
                note = send_citizen_email(parcel, timeout=timeout)
            else:
                post_webhook(parcel, timeout=timeout)
                note = None
        except DeliveryError as exc:
            error = str(exc)
            permanent = isinstance(exc, PermanentDeliveryError)
            log.warning("delivery %s (%s) attempt %s failed: %s", delivery_id, channel, attempts, error)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            permanent = False
            log.exception("delivery %s (%s) attempt %s failed", delivery_id, channel, attempts)
        else:
            _record_success(delivery_id, now, note)
            log.info("delivery %s (%s) delivered to %s", delivery_id, channel, parcel.target)
            return Outcome(delivery_id, channel, DeliveryState.DELIVERED)
        state = _record_failure(delivery_id, token, error, permanent=permanent, now=now)
    return Outcome(delivery_id, channel, state or DeliveryState.SENDING, error)


def process_due(
    *,
    now: datetime | None = None,
    limit: int | None = None,
    worker: str | None = None,
    only_ids: Iterable[int] | None = None,
    timeout: float | None = None,
) -> list[Outcome]:
    """One round: claim what is due (at most ``limit``), send each, record each.

    ``timeout`` (seconds, per connect and read) defaults to ``DELIVERY_TIMEOUT_SECONDS``.
    """
    now = now or utcnow()
    limit = limit or int(current_app.config["DELIVERY_BATCH_SIZE"])
    outcomes = []
    for delivery_id, token in claim_due(now=now, limit=limit, worker=worker, only_ids=only_ids):
        outcomes.append(deliver_claimed(delivery_id, token, now=now, timeout=timeout))
    return outcomes


def attempt_after_commit(delivery_ids: Iterable[int]) -> list[Outcome]:
    """Try the given deliveries right away, from the request that committed them.

    Call it after the submission's transaction has committed. Deliveries whose
    PDF is not ready yet, or that a worker holds, are left for the worker. It
    never raises: whatever goes wrong is logged and retried by the worker.
    The citizen waits for it, so it uses the shorter
    ``DELIVERY_AFTER_COMMIT_TIMEOUT_SECONDS``. Switched off with
    ``DELIVERY_ATTEMPT_AFTER_COMMIT = False``.
    """
    ids = list(delivery_ids)
    try:
        if not ids or not current_app.config["DELIVERY_ATTEMPT_AFTER_COMMIT"]:
            return []
        timeout = float(current_app.config["DELIVERY_AFTER_COMMIT_TIMEOUT_SECONDS"])
        return process_due(only_ids=ids, limit=len(ids), timeout=timeout)
    except Exception:
        log.exception("attempt after commit of deliveries %s failed; the worker retries them", ids)
        return []


class Worker:
    """The long-running outbox worker behind ``flask deliveries work``."""

    def __init__(self, *, poll_seconds: float, batch_size: int, name: str | None = None) -> None:
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.name = name or worker_name()
        self.stopping = threading.Event()

    def run_round(self) -> list[Outcome]:
        """Let connected features do their part, then work through one batch."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        for receiver in worker_round.receivers_for(app):
            try:
                receiver(app)
            except Exception:
                log.exception("worker round task %r failed", receiver)
        return process_due(limit=self.batch_size, worker=self.name)

    def run_until_empty(self) -> int:
        """Process whatever is due now, batch after batch, then return how many were attempted."""
        total = 0
        while not self.stopping.is_set():
            outcomes = self.run_round()
            total += len(outcomes)
            if len(outcomes) < self.batch_size:
                break
        return total

    def run_forever(self) -> None:
        """Poll until SIGTERM or SIGINT; the delivery in hand is finished and recorded first."""
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

        def stop(signum: int, frame: FrameType | None) -> None:
            log.info("received signal %s; stopping after the current delivery", signum)
            self.stopping.set()
            # A second signal ends the process at once.
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        for sig in previous:
            signal.signal(sig, stop)
        log.info("delivery worker %s started (poll every %ss)", self.name, self.poll_seconds)
        try:
            while not self.stopping.is_set():
                try:
                    attempted = self.run_until_empty()
                except Exception:
                    log.exception("delivery round failed; trying again after the poll interval")
                    attempted = 0
                if not attempted:
                    self.stopping.wait(self.poll_seconds)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("delivery worker %s stopped", self.name)


def connect_round_task(task: Callable[[Any], None]) -> None:
    """Run ``task(app)`` at the start of every worker round (see :data:`worker_round`)."""
    worker_round.connect(task, weak=False)
