"""Login throttling: temporary lockout after repeated failures.

Failures are counted per account (the e-mail address typed, whether an account
exists or not, so a lockout reveals nothing) and per client address. Once a key has
``max_failures`` failures within ``window``, further attempts are refused until
``lockout`` has passed since the last of them. Attempts refused during a lockout are
not counted, so a lockout ends on time. A successful login clears the account's
count, not the address's: one valid account must not unlock an address that is
guessing at others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select

from app.extensions import db
from app.staff.models import LoginAttempt, normalise_email

#: Attempts are kept this long; older rows cannot influence any decision.
RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures lock an account or an address, and for how long."""

    max_failures_per_account: int = 5
    max_failures_per_address: int = 20
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Lockout:
    """An active lockout and when it ends."""

    until: datetime
    by_account: bool
    by_address: bool

    def minutes_left(self, now: datetime) -> int:
        """Whole minutes until the lockout ends, rounded up; for the message."""
        seconds = max(0.0, (self.until - now).total_seconds())
        return max(1, math.ceil(seconds / 60))


def _locked_until(
    condition: ColumnElement[bool], max_failures: int, policy: ThrottlePolicy, now: datetime
) -> datetime | None:
    horizon = now - policy.window - policy.lockout
    last_failure = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(
            condition, LoginAttempt.at >= horizon, LoginAttempt.succeeded.is_(False)
        )
    )
    if last_failure is None or last_failure + policy.lockout <= now:
        return None
    failures = db.session.scalar(
        select(func.count()).where(
            condition,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > last_failure - policy.window,
            LoginAttempt.at <= last_failure,
        )
    )
    if (failures or 0) < max_failures:
        return None
    return last_failure + policy.lockout


def _account_condition(email: str, now: datetime, policy: ThrottlePolicy) -> ColumnElement[bool]:
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email,
            LoginAttempt.succeeded.is_(True),
            LoginAttempt.at >= now - policy.window - policy.lockout,
        )
    )
    condition = LoginAttempt.email == email
    if last_success is not None:
        condition = condition & (LoginAttempt.at > last_success)
    return condition


def current_lockout(email: str, client_address: str, now: datetime, policy: ThrottlePolicy) -> Lockout | None:
    """The lockout that applies to this e-mail address or client address now, if any."""
    email = normalise_email(email)
    account_until = _locked_until(
        _account_condition(email, now, policy), policy.max_failures_per_account, policy, now
    )
    address_until = _locked_until(
        LoginAttempt.client_address == client_address, policy.max_failures_per_address, policy, now
    )
    ends = [t for t in (account_until, address_until) if t is not None]
    if not ends:
        return None
    return Lockout(
        until=max(ends), by_account=account_until is not None, by_address=address_until is not None
    )


def record_attempt(email: str, client_address: str, *, succeeded: bool, now: datetime) -> None:
    """Count one attempt and forget attempts older than :data:`RETENTION`."""
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - RETENTION))
    db.session.add(
        LoginAttempt(
            email=normalise_email(email)[:254],
            client_address=client_address[:45],
            succeeded=succeeded,
            at=now,
        )
    )
    db.session.flush()
