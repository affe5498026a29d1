"""API clients: the communes' specialized applications (Fachverfahren) that pull submissions.

A client belongs to one commune and sees only its submissions, optionally narrowed to
some offices and services. It authenticates with a bearer token that is shown once
when the client is created; only its SHA-256 is stored, next to a short prefix that
identifies the token in lists and logs without revealing it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.tenancy.models import Commune
from app.timeutil import UTCDateTime, utcnow


class ApiClient(db.Model):
    """A specialized application allowed to read and process one commune's submissions.

    ``office_ids`` and ``service_slugs`` narrow what the client sees; an empty list
    means "every office" or "every service" of the commune. A client is usable until
    it is revoked or its ``expires_at`` passes.
    """

    __tablename__ = "api_client"
    __table_args__ = (UniqueConstraint("commune_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    #: The non-secret part of the token (``kp_<prefix>_<secret>``), unique, for lookup and display.
    token_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    #: SHA-256 (hex) of the whole token.
    token_hash: Mapped[str] = mapped_column(String(64))
    office_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    service_slugs: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), default=None
    )
    created_by_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: When the token was last accepted (kept to the minute, so reads do not write each time).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    commune: Mapped[Commune] = relationship()

    def usable_at(self, moment: datetime) -> bool:
        """Whether the token is accepted at ``moment``: not revoked, not expired."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or moment < self.expires_at

    @property
    def actor_name(self) -> str:
        """How the client appears as the actor of history entries."""
        return f"API-Client {self.name}"

    def __repr__(self) -> str:
        return f"<ApiClient {self.token_prefix} {self.name!r}>"
