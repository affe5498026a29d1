"""Invitations: the one-time links with which new staff accounts set their password."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.staff.models import User
from app.timeutil import UTCDateTime, utcnow


class Invitation(db.Model):
    """A link sent to a new account's address; whoever opens it sets the password once.

    Only the SHA-256 of the token is stored, so the table alone opens no account. An
    invitation counts until ``expires_at`` and only while ``used_at`` is empty; a new
    invitation for the same account makes the earlier ones void.
    """

    __tablename__ = "staff_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    user: Mapped[User] = relationship()
