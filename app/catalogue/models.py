"""CommuneService: which catalogue services a commune offers, and how it receives them.

The services themselves are not rows: they are the definitions in ``forms/``,
loaded once per process (see :mod:`app.catalogue.services`). A row here is the
commune's choice of one of them, keyed by the service's slug.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import encryption
from app.extensions import db
from app.tenancy.models import Commune, Office


class CommuneService(db.Model):
    """One service of the catalogue as a commune offers it (the cafeteria choice).

    Delivery reads the channel columns: ``deliver_by_email`` with ``email_to``
    (empty means the receiving office's address) and ``webhook_url`` with
    ``webhook_secret`` (no URL means no webhook).
    """

    __tablename__ = "commune_service"
    __table_args__ = (UniqueConstraint("commune_id", "service_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    service_slug: Mapped[str] = mapped_column(String(80))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The office that receives submissions; chosen by the commune's admin.
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id", ondelete="SET NULL"), index=True)
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    deliver_by_email: Mapped[bool] = mapped_column(Boolean, default=True)
    email_to: Mapped[str] = mapped_column(String(254), default="")
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    #: The webhook's HMAC key as stored: encrypted (see :mod:`app.encryption`), or clear
    #: text from before encryption. Read and set :attr:`webhook_secret` instead. Sized for
    #: the 200 characters the admin form allows.
    webhook_secret_stored: Mapped[str | None] = mapped_column(
        "webhook_secret", String(encryption.token_length(200)), info=encryption.ENCRYPTED
    )
    #: Overrides the service's default retention period when set.
    retention_days: Mapped[int | None] = mapped_column(Integer)
    #: Replaces the service's base fee when set.
    fee_override: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))

    commune: Mapped[Commune] = relationship()
    office: Mapped[Office | None] = relationship()

    webhook_secret = encryption.EncryptedAttribute("webhook_secret_stored")

    @property
    def email_recipient(self) -> str:
        """Where e-mail deliveries go: the explicit address, else the office's."""
        if self.email_to:
            return self.email_to
        return self.office.email if self.office is not None else ""

    def __repr__(self) -> str:
        return f"<CommuneService {self.commune_id}:{self.service_slug}>"
