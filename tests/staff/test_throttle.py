"""Login throttling: lockout per account and per client address, and its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db
from app.staff.audit import Origin
from app.staff.models import AuditAction, AuditEntry, LoginAttempt, Role, User
from app.staff.services import LoginOutcome, authenticate
from app.staff.throttle import RETENTION, ThrottlePolicy, record_attempt

from .builders import PASSWORD, make_user

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(max_failures_per_account=5, max_failures_per_address=8)
HOME = Origin(client_address="192.0.2.10")
ELSEWHERE = Origin(client_address="198.51.100.7")


def _try(email: str, password: str, at: datetime, origin: Origin = HOME) -> LoginOutcome:
    result = authenticate(email, password, origin=origin, now=at, policy=POLICY)
    db.session.commit()
    return result.outcome


def _fail_five_times(user: User) -> datetime:
    outcomes = [_try(user.email, "falsch-falsch-falsch", T0 + timedelta(seconds=10 * i)) for i in range(5)]
    assert outcomes == [LoginOutcome.FAILED] * 4 + [LoginOutcome.LOCKED]
    return T0 + timedelta(seconds=40)


@pytest.mark.usefixtures("app")
def test_five_failures_lock_the_account_even_for_the_right_password() -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    last = _fail_five_times(user)
    assert _try(user.email, PASSWORD, last + timedelta(minutes=1)) is LoginOutcome.LOCKED
    # The account is locked from every address, not just the one that guessed.
    assert _try(user.email, PASSWORD, last + timedelta(minutes=1), ELSEWHERE) is LoginOutcome.LOCKED


@pytest.mark.usefixtures("app")
def test_lockout_ends_after_fifteen_minutes_and_refused_attempts_do_not_extend_it() -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    last = _fail_five_times(user)
    for minute in (2, 5, 14):
        assert (
            _try(user.email, "falsch-falsch-falsch", last + timedelta(minutes=minute)) is LoginOutcome.LOCKED
        )
    assert _try(user.email, PASSWORD, last + timedelta(minutes=14, seconds=59)) is LoginOutcome.LOCKED
    assert _try(user.email, PASSWORD, last + timedelta(minutes=15, seconds=1)) is LoginOutcome.LOGGED_IN


@pytest.mark.usefixtures("app")
def test_a_success_clears_the_account_count() -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    for i in range(4):
        assert _try(user.email, "falsch-falsch-falsch", T0 + timedelta(seconds=i)) is LoginOutcome.FAILED
    assert _try(user.email, PASSWORD, T0 + timedelta(seconds=5)) is LoginOutcome.LOGGED_IN
    for i in range(4):
        outcome = _try(user.email, "falsch-falsch-falsch", T0 + timedelta(seconds=10 + i), ELSEWHERE)
        assert outcome is LoginOutcome.FAILED


@pytest.mark.usefixtures("app")
def test_an_address_guessing_at_many_accounts_is_locked_out() -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    outcomes = [
        _try(f"rate-{i}@example.org", "falsch-falsch-falsch", T0 + timedelta(seconds=i)) for i in range(8)
    ]
    assert outcomes[-1] is LoginOutcome.LOCKED
    assert set(outcomes[:-1]) == {LoginOutcome.FAILED}
    # A real account from that address is refused; from another address it works.
    assert _try(user.email, PASSWORD, T0 + timedelta(minutes=1)) is LoginOutcome.LOCKED
    assert _try(user.email, PASSWORD, T0 + timedelta(minutes=1), ELSEWHERE) is LoginOutcome.LOGGED_IN
    # A success from the address does not clear the address's count.
    assert _try(user.email, PASSWORD, T0 + timedelta(minutes=2)) is LoginOutcome.LOCKED
    assert _try(user.email, PASSWORD, T0 + timedelta(minutes=16)) is LoginOutcome.LOGGED_IN


@pytest.mark.usefixtures("app")
def test_unknown_accounts_lock_like_known_ones() -> None:
    """A lockout must not reveal whether an account exists."""
    outcomes = [
        _try("niemand@example.org", "falsch-falsch-falsch", T0 + timedelta(seconds=i)) for i in range(5)
    ]
    assert outcomes == [LoginOutcome.FAILED] * 4 + [LoginOutcome.LOCKED]


@pytest.mark.usefixtures("app")
def test_lockout_is_recorded_in_the_audit_log() -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    last = _fail_five_times(user)
    _try(user.email, PASSWORD, last + timedelta(minutes=1))
    locked = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == AuditAction.LOGIN_LOCKED)))
    assert [entry.details["started"] for entry in locked] == [True, False]
    assert all(entry.actor_id == user.id and entry.details["by_account"] for entry in locked)


@pytest.mark.usefixtures("app")
def test_old_attempts_are_forgotten() -> None:
    record_attempt("a@example.org", "192.0.2.1", succeeded=False, now=T0)
    record_attempt("a@example.org", "192.0.2.1", succeeded=False, now=T0 + RETENTION + timedelta(seconds=1))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 1


def test_web_lockout_answers_429_and_the_same_for_unknown_accounts(client: FlaskClient) -> None:
    user = make_user(Role.ASSOCIATION_ADMIN)
    answers = {}
    for email in (user.email, "niemand@example.org"):
        for _ in range(5):
            response = client.post("/staff/login", data={"email": email, "password": "falsch-falsch-123"})
        answers[email] = response
    for response in answers.values():
        assert response.status_code == 429
        assert "vorübergehend gesperrt" in response.get_data(as_text=True)
    right = client.post("/staff/login", data={"email": user.email, "password": PASSWORD})
    assert right.status_code == 429
