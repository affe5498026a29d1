"""The outbox: one row per submission and channel that must reach an office or the citizen.

Rows are written in the submission's own transaction, so a submission that was
not committed is never delivered, and a committed one is never forgotten. A
worker claims a row for a limited time (a lease, ``claimed_until``); if it dies
while sending, the lease runs out and another worker takes the row over.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import encryption
from app.extensions import db
from app.submissions.models import Submission
from app.timeutil import UTCDateTime, utcnow


class DeliveryChannel(enum.StrEnum):
    """How a submission travels to the office, or its confirmation to the citizen."""

    EMAIL = "email"
    WEBHOOK = "webhook"
    #: The confirmation e-mail to the submitter; the composed message is the row's payload.
    CITIZEN_EMAIL = "citizen"

    @property
    def label(self) -> str:
        return str(CHANNEL_LABELS[self])


class DeliveryState(enum.StrEnum):
    """Where a delivery stands.

    ``pending`` waits for its next attempt, ``sending`` is claimed by a worker
    (until its lease ends), ``delivered`` and ``failed`` are final; staff can put
    a failed delivery back to ``pending``.
    """

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self])


CHANNEL_LABELS = {
    DeliveryChannel.EMAIL: _l("E-Mail"),
    DeliveryChannel.WEBHOOK: _l("Webhook"),
    DeliveryChannel.CITIZEN_EMAIL: _l("E-Mail an Antragsteller/in"),
}

STATE_LABELS = {
    DeliveryState.PENDING: _l("Wartet auf Zustellung"),
    DeliveryState.SENDING: _l("Wird zugestellt"),
    DeliveryState.DELIVERED: _l("Zugestellt"),
    DeliveryState.FAILED: _l("Fehlgeschlagen"),
}

#: States a worker may pick up (``sending`` only once its lease has run out).
OPEN_STATES = (DeliveryState.PENDING, DeliveryState.SENDING)


def idempotency_key(reference: str, delivery_id: int) -> str:
    """The de-duplication key of a delivery: the submission's reference and the row's id.

    It is the local part of the e-mail's Message-ID and the webhook's
    ``Idempotency-Key`` header.
    """
    return f"{reference}.{delivery_id}"


def _enum(cls: type[enum.Enum], length: int) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Delivery(db.Model):
    """One submission on its way through one channel to one target."""

    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[DeliveryChannel] = mapped_column(_enum(DeliveryChannel, 10))
    #: The e-mail address or the webhook URL, as configured when the submission was made.
    target: Mapped[str] = mapped_column(String(2000))
    #: The webhook's HMAC key, kept with the row so a retry signs as the first attempt did;
    #: as stored: encrypted (see :mod:`app.encryption`), or clear text from before
    #: encryption. Read and set :attr:`signing_secret` instead. Sized like the commune
    #: service's webhook secret it is copied from.
    signing_secret_stored: Mapped[str | None] = mapped_column(
        "signing_secret", String(encryption.token_length(200)), info=encryption.ENCRYPTED
    )
    #: What the row carries beyond the submission (the citizen's confirmation: subject and body,
    #: whose status link holds the plain tracking token), encrypted like the signing secret and
    #: erased once delivered. Read and set :attr:`payload` instead.
    payload_stored: Mapped[str | None] = mapped_column("payload", Text, info=encryption.ENCRYPTED)
    state: Mapped[DeliveryState] = mapped_column(
        _enum(DeliveryState, 10), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When the row is due; ``None`` once it is delivered or failed.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Who holds the row (worker name and a per-claim token) and until when.
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last staff member who put the row back in the queue, and when.
    retried_by: Mapped[str | None] = mapped_column(String(200))
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    submission: Mapped[Submission] = relationship()

    signing_secret = encryption.EncryptedAttribute("signing_secret_stored")

    payload = encryption.EncryptedAttribute("payload_stored")

    @property
    def idempotency_key(self) -> str:
        """Stable across attempts, so a receiver can drop a message it already has."""
        return idempotency_key(self.submission.reference, self.id)

    def __repr__(self) -> str:
        return f"<Delivery {self.id} {self.channel} {self.state}>"
