"""Time helpers: everything is stored in UTC and shown in Europe/Berlin."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, TypeDecorator

BERLIN = ZoneInfo("Europe/Berlin")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def to_berlin(value: datetime) -> datetime:
    """Convert an aware (or naive-UTC) datetime to Europe/Berlin."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BERLIN)


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime column that always hands back aware UTC datetimes.

    SQLite keeps no timezone; PostgreSQL's timestamptz does. This type makes
    both behave the same for the application.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
