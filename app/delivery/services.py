"""What the rest of the portal asks of delivery.

- The submit transaction calls :func:`enqueue_deliveries` (and
  :func:`enqueue_citizen_email` for the confirmation) before its commit and
  :func:`attempt_after_commit` after it.
- The staff workspace lists :func:`deliveries_for_submission` and calls
  :func:`retry_delivery` for a failed one.
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.delivery.channels import citizen_mail_payload
from app.delivery.models import Delivery, DeliveryChannel, DeliveryState
from app.delivery.worker import attempt_after_commit
from app.encryption import UndecryptableSecret
from app.extensions import db
from app.submissions.models import Submission
from app.tenancy.models import Office
from app.timeutil import utcnow

log = logging.getLogger(__name__)

__all__ = [
    "ChannelSettings",
    "DeliveryNotRetryable",
    "attempt_after_commit",
    "deliveries_for_submission",
    "enqueue_citizen_email",
    "enqueue_deliveries",
    "retry_delivery",
]


class ChannelSettings(Protocol):
    """The channel columns of a commune's service (``CommuneService``)."""

    deliver_by_email: bool
    email_to: str
    webhook_url: str | None
    webhook_secret: str | None


class DeliveryNotRetryable(Exception):
    """The delivery is delivered already, being sent right now, or not found."""


def enqueue_deliveries(
    submission: Submission,
    commune_service: ChannelSettings,
    office: Office,
    *,
    session: Session | None = None,
) -> list[Delivery]:
    """Add the outbox rows for a new submission to the session, without committing.

    One e-mail row when the service delivers by e-mail (to ``email_to``, or the
    office's address when that is empty) and one webhook row when a webhook URL
    is set. The caller commits them with the submission; nothing is sent before
    that commit, and nothing at all if it rolls back. A row without a usable
    target still gets written, so the failure shows up in the staff view.
    """
    session = session or db.session
    now = utcnow()
    deliveries = []
    if commune_service.deliver_by_email:
        address = (commune_service.email_to or "").strip() or office.email.strip()
        deliveries.append(
            Delivery(
                submission=submission,
                channel=DeliveryChannel.EMAIL,
                target=address,
                state=DeliveryState.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    webhook_url = (commune_service.webhook_url or "").strip()
    if webhook_url:
        deliveries.append(
            Delivery(
                submission=submission,
                channel=DeliveryChannel.WEBHOOK,
                target=webhook_url,
                signing_secret=_signing_secret(commune_service),
                state=DeliveryState.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.add_all(deliveries)
    return deliveries


def enqueue_citizen_email(
    submission: Submission, subject: str, body: str, *, session: Session | None = None
) -> Delivery:
    """Add the outbox row of the citizen's confirmation to the session, without committing.

    The message is composed by the caller, in the citizen's language; the row keeps it
    encrypted (its status link holds the plain tracking token) until it is delivered, and
    the worker attaches the submission's PDF from storage when it sends it.
    """
    session = session or db.session
    now = utcnow()
    row = Delivery(
        submission=submission,
        channel=DeliveryChannel.CITIZEN_EMAIL,
        target=submission.submitter_email,
        payload=citizen_mail_payload(subject, body),
        state=DeliveryState.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row


def _signing_secret(commune_service: ChannelSettings) -> str | None:
    """The webhook secret for a new delivery; none when no key opens it.

    The citizen's submission must not fail for it: without a secret the delivery
    fails at its first attempt, where staff see it, and the log says why.
    """
    try:
        return commune_service.webhook_secret
    except UndecryptableSecret:
        log.exception("the webhook secret of %r cannot be decrypted", commune_service)
        return None


def deliveries_for_submission(submission_id: int, *, session: Session | None = None) -> list[Delivery]:
    """The delivery log of one submission, oldest first (channel, state, attempts, last error)."""
    session = session or db.session
    return list(
        session.scalars(
            select(Delivery).where(Delivery.submission_id == submission_id).order_by(Delivery.id)
        )
    )


def retry_delivery(
    delivery_id: int,
    actor: str,
    *,
    submission_id: int | None = None,
    session: Session | None = None,
) -> Delivery:
    """Put a failed (or still waiting) delivery back in the queue, due now, with fresh attempts.

    ``actor`` is the staff member's display name, stored in ``retried_by``.
    Pass ``submission_id`` to make sure the delivery belongs to the submission
    the staff member is looking at. Works in the caller's session and does not
    commit: the caller commits together with its audit entry and history (this
    function writes no SubmissionEvent), then may call
    :func:`attempt_after_commit` to try at once.

    Raises :class:`DeliveryNotRetryable` if the delivery is delivered, held by
    a worker right now, or not found.
    """
    session = session or db.session
    now = utcnow()
    conditions = [
        Delivery.id == delivery_id,
        Delivery.state.in_((DeliveryState.FAILED, DeliveryState.PENDING, DeliveryState.SENDING)),
        or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
    ]
    if submission_id is not None:
        conditions.append(Delivery.submission_id == submission_id)
    # Conditional, so a worker claiming the row at the same moment cannot be overwritten.
    result = session.execute(
        update(Delivery)
        .where(*conditions)
        .values(
            state=DeliveryState.PENDING,
            attempts=0,
            next_attempt_at=now,
            claimed_by=None,
            claimed_until=None,
            retried_by=actor[:200],
            retried_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise DeliveryNotRetryable(delivery_id)
    delivery = session.get(Delivery, delivery_id, populate_existing=True)
    assert delivery is not None
    return delivery
