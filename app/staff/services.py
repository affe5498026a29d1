"""Domain functions for staff accounts: creating and changing them, logging in, 2FA.

Functions here add to the current transaction and flush; the caller commits. Each
records its audit entry with the :class:`~app.staff.audit.Origin` it is given.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.staff import passwords, throttle, twofactor
from app.staff.audit import Origin, record
from app.staff.models import AuditAction, Role, User, normalise_email
from app.staff.passwords import PasswordPolicyError
from app.staff.throttle import Lockout, ThrottlePolicy
from app.tenancy.models import Commune, Office
from app.timeutil import utcnow

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """A change to an account was refused; the message says why, in German."""


def find_user(email: str) -> User | None:
    """The account with this e-mail address (any case), active or not."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def load_session_user(session_id: str) -> User | None:
    """The active user of a session id from :meth:`User.get_id` (``"<id>:<generation>"``).

    A session opened before the last password change (or before the account was
    disabled) carries an older generation and loads nobody.
    """
    user_id, _sep, generation = session_id.partition(":")
    if not user_id.isdigit() or not generation.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.auth_generation != int(generation):
        return None
    return user


def list_users(commune: Commune | None = None) -> list[User]:
    """Accounts by commune and name; only the commune's when one is given."""
    stmt = select(User).order_by(User.commune_id.is_not(None), User.commune_id, User.name)
    if commune is not None:
        stmt = stmt.where(User.commune_id == commune.id)
    return list(db.session.scalars(stmt))


def _check_assignment(role: Role, commune: Commune | None, offices: Sequence[Office]) -> None:
    if role.needs_commune and commune is None:
        raise AccountError(_("Für diese Rolle muss eine Kommune angegeben werden."))
    if not role.needs_commune and commune is not None:
        raise AccountError(_("Die Verbandsadministration gehört zu keiner einzelnen Kommune."))
    if offices and commune is None:
        raise AccountError(_("Fachämter gibt es nur innerhalb einer Kommune."))
    if commune is not None and any(office.commune_id != commune.id for office in offices):
        raise AccountError(_("Die Fachämter müssen zur Kommune des Kontos gehören."))


def _check_identity(email: str, name: str, *, existing: User | None = None) -> None:
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        raise AccountError(_("Bitte geben Sie eine gültige E-Mail-Adresse an."))
    if not name.strip():
        raise AccountError(_("Bitte geben Sie den Namen an."))
    other = find_user(email)
    if other is not None and other is not existing:
        raise AccountError(_("Es gibt bereits ein Konto mit dieser E-Mail-Adresse."))


def create_user(
    *,
    email: str,
    name: str,
    role: Role,
    commune: Commune | None = None,
    offices: Sequence[Office] = (),
    password: str | None = None,
    origin: Origin,
    now: datetime | None = None,
) -> User:
    """Create an account. Without a password it cannot log in until one is set.

    Raises :class:`AccountError` or :class:`PasswordPolicyError` with a German message.
    """
    now = now or utcnow()
    email = normalise_email(email)
    _check_identity(email, name)
    _check_assignment(role, commune, offices)
    if password is not None:
        passwords.check_password_policy(password, email=email)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        commune=commune,
        offices=list(offices),
        password_hash=passwords.hash_password(password) if password is not None else None,
        password_changed_at=now if password is not None else None,
        created_at=now,
        active=True,
        auth_generation=1,
    )
    db.session.add(user)
    db.session.flush()
    record(
        AuditAction.USER_CREATED,
        origin=origin,
        commune_id=user.commune_id,
        object_type="user",
        object_id=user.id,
        details={
            "email": user.email,
            "role": role.value,
            "offices": [office.slug for office in user.offices],
        },
        at=now,
    )
    return user


def update_user(
    user: User,
    *,
    name: str,
    role: Role,
    commune: Commune | None,
    offices: Sequence[Office],
    origin: Origin,
    now: datetime | None = None,
) -> None:
    """Change an account's name, role, commune and offices; records what changed."""
    now = now or utcnow()
    if not name.strip():
        raise AccountError(_("Bitte geben Sie den Namen an."))
    _check_assignment(role, commune, offices)
    before = {
        "name": user.name,
        "role": user.role.value,
        "commune_id": user.commune_id,
        "offices": sorted(o.slug for o in user.offices),
    }
    user.name = name.strip()
    user.role = role
    user.commune = commune
    user.offices = list(offices)
    db.session.flush()
    after = {
        "name": user.name,
        "role": user.role.value,
        "commune_id": user.commune_id,
        "offices": sorted(o.slug for o in user.offices),
    }
    changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    if changes:
        record(
            AuditAction.USER_CHANGED,
            origin=origin,
            commune_id=user.commune_id,
            object_type="user",
            object_id=user.id,
            details={"changes": changes},
            at=now,
        )


def set_password(user: User, password: str, *, origin: Origin, now: datetime | None = None) -> None:
    """Give the account a new password; every session opened before ends.

    Raises :class:`PasswordPolicyError` when the password is too weak.
    """
    now = now or utcnow()
    passwords.check_password_policy(password, email=user.email)
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = now
    user.auth_generation += 1
    db.session.flush()
    record(
        AuditAction.PASSWORD_CHANGED,
        origin=origin,
        commune_id=user.commune_id,
        object_type="user",
        object_id=user.id,
        at=now,
    )


def change_own_password(
    user: User, current: str, new: str, *, origin: Origin, now: datetime | None = None
) -> None:
    """The user changes their password, proving they know the current one."""
    if not passwords.verify_password(user.password_hash, current)[0]:
        raise PasswordPolicyError(_("Das bisherige Passwort ist nicht richtig."))
    if current == new:
        raise PasswordPolicyError(_("Das neue Passwort muss sich vom bisherigen unterscheiden."))
    set_password(user, new, origin=origin, now=now)


def set_active(user: User, active: bool, *, origin: Origin, now: datetime | None = None) -> None:
    """Disable or re-enable an account. Disabling ends its sessions at once."""
    if user.active == active:
        return
    user.active = active
    if not active:
        user.auth_generation += 1
    db.session.flush()
    record(
        AuditAction.USER_ENABLED if active else AuditAction.USER_DISABLED,
        origin=origin,
        commune_id=user.commune_id,
        object_type="user",
        object_id=user.id,
        at=now or utcnow(),
    )


class LoginOutcome(enum.StrEnum):
    """What a login step led to."""

    LOGGED_IN = "logged_in"
    SECOND_FACTOR_NEEDED = "second_factor_needed"
    FAILED = "failed"
    LOCKED = "locked"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    lockout: Lockout | None = None


def _lockout_result(
    email: str, origin: Origin, now: datetime, policy: ThrottlePolicy, user: User | None, started: bool
) -> LoginResult | None:
    lockout = throttle.current_lockout(email, origin.client_address, now, policy)
    if lockout is None:
        return None
    record(
        AuditAction.LOGIN_LOCKED,
        origin=Origin(
            user=user,
            email=email,
            client_address=origin.client_address,
            user_agent=origin.user_agent,
        ),
        commune_id=user.commune_id if user is not None else None,
        object_type="user" if user is not None else "",
        object_id=user.id if user is not None else "",
        details={
            "by_account": lockout.by_account,
            "by_address": lockout.by_address,
            "started": started,
            "until": lockout.until.isoformat(),
        },
        at=now,
    )
    return LoginResult(LoginOutcome.LOCKED, lockout=lockout)


def _failed(
    email: str, user: User | None, reason: str, origin: Origin, now: datetime, policy: ThrottlePolicy
) -> LoginResult:
    throttle.record_attempt(email, origin.client_address, succeeded=False, now=now)
    record(
        AuditAction.LOGIN_FAILED,
        origin=Origin(
            user=user, email=email, client_address=origin.client_address, user_agent=origin.user_agent
        ),
        commune_id=user.commune_id if user is not None else None,
        object_type="user" if user is not None else "",
        object_id=user.id if user is not None else "",
        details={"reason": reason},
        at=now,
    )
    locked = _lockout_result(email, origin, now, policy, user, started=True)
    return locked or LoginResult(LoginOutcome.FAILED)


def _logged_in(user: User, origin: Origin, now: datetime, details: dict[str, str]) -> LoginResult:
    throttle.record_attempt(user.email, origin.client_address, succeeded=True, now=now)
    user.last_login_at = now
    record(
        AuditAction.LOGIN,
        origin=Origin(user=user, client_address=origin.client_address, user_agent=origin.user_agent),
        commune_id=user.commune_id,
        object_type="user",
        object_id=user.id,
        details=details,
        at=now,
    )
    return LoginResult(LoginOutcome.LOGGED_IN, user=user)


def authenticate(
    email: str, password: str, *, origin: Origin, now: datetime, policy: ThrottlePolicy
) -> LoginResult:
    """The first login step: e-mail address and password.

    Refuses while the account or the address is locked out, without checking the
    password. A wrong password, an unknown address and a disabled account all fail
    the same way. When the password matches and the account has 2FA, the result asks
    for the second step (:func:`complete_second_factor`); the login is not done yet.
    A hash with outdated parameters is replaced by a fresh one.
    """
    email = normalise_email(email)[:254]
    user = find_user(email)
    locked = _lockout_result(email, origin, now, policy, user, started=False)
    if locked is not None:
        return locked
    matches, needs_rehash = passwords.verify_password(user.password_hash if user else None, password)
    if user is None:
        return _failed(email, None, "unknown_account", origin, now, policy)
    if not matches:
        return _failed(email, user, "password", origin, now, policy)
    if not user.active:
        return _failed(email, user, "disabled", origin, now, policy)
    if needs_rehash:
        user.password_hash = passwords.hash_password(password)
    if user.two_factor_enabled:
        return LoginResult(LoginOutcome.SECOND_FACTOR_NEEDED, user=user)
    return _logged_in(user, origin, now, {"second_factor": "none"})


def complete_second_factor(
    user: User, code: str, *, origin: Origin, now: datetime, policy: ThrottlePolicy
) -> LoginResult:
    """The second login step: a TOTP code, or else one unused recovery code.

    Wrong codes count as failed logins of the account, so guessing codes leads to
    the same lockout as guessing passwords.
    """
    locked = _lockout_result(user.email, origin, now, policy, user, started=False)
    if locked is not None:
        return locked
    if not user.active:
        return _failed(user.email, user, "disabled", origin, now, policy)
    if twofactor.verify_totp(user, code, now):
        return _logged_in(user, origin, now, {"second_factor": "totp"})
    if twofactor.use_recovery_code(user, code, now):
        record(
            AuditAction.RECOVERY_CODE_USED,
            origin=Origin(user=user, client_address=origin.client_address, user_agent=origin.user_agent),
            commune_id=user.commune_id,
            object_type="user",
            object_id=user.id,
            details={"left": twofactor.unused_recovery_codes(user)},
            at=now,
        )
        return _logged_in(user, origin, now, {"second_factor": "recovery_code"})
    return _failed(user.email, user, "second_factor", origin, now, policy)


def record_logout(user: User, *, origin: Origin, expired: bool = False, now: datetime | None = None) -> None:
    """Record that a session ended, by the user or by the idle timeout."""
    record(
        AuditAction.SESSION_EXPIRED if expired else AuditAction.LOGOUT,
        origin=origin,
        commune_id=user.commune_id,
        object_type="user",
        object_id=user.id,
        at=now or utcnow(),
    )


def start_two_factor_setup(user: User) -> str:
    """Give the user a new, unconfirmed TOTP secret (unless one awaits confirmation)."""
    if user.two_factor_enabled:
        raise AccountError(_("Die Zwei-Faktor-Anmeldung ist bereits eingerichtet."))
    if not user.totp_secret_stored:
        user.totp_secret = twofactor.new_secret()
        user.totp_last_step = None
    db.session.flush()
    return user.totp_secret


def confirm_two_factor(user: User, code: str, *, origin: Origin, now: datetime | None = None) -> list[str]:
    """Switch 2FA on once the user proves their app shows the right code.

    Returns the new recovery codes, to be shown exactly once. Raises
    :class:`AccountError` when the code is wrong.
    """
    now = now or utcnow()
    if user.two_factor_enabled:
        raise AccountError(_("Die Zwei-Faktor-Anmeldung ist bereits eingerichtet."))
    if not user.totp_secret_stored or not twofactor.verify_totp(user, code, now):
        raise AccountError(_("Der Code stimmt nicht. Bitte geben Sie den aktuellen Code aus Ihrer App ein."))
    user.totp_confirmed = True
    codes = twofactor.replace_recovery_codes(user, now)
    db.session.flush()
    record(
        AuditAction.TWO_FACTOR_ENABLED,
        origin=origin,
        commune_id=user.commune_id,
        object_type="user",
        object_id=user.id,
        at=now,
    )
    return codes


def disable_two_factor(user: User, password: str, *, origin: Origin, now: datetime | None = None) -> None:
    """Switch 2FA off after checking the password; refused where the commune requires it."""
    if not passwords.verify_password(user.password_hash, password)[0]:
        raise AccountError(_("Das Passwort ist nicht richtig."))
    if user.two_factor_required:
        raise AccountError(
            _("Ihre Kommune schreibt die Zwei-Faktor-Anmeldung vor; sie kann nicht abgeschaltet werden.")
        )
    user.totp_secret = None
    user.totp_confirmed = False
    user.totp_last_step = None
    user.recovery_codes.clear()
    db.session.flush()
    record(
        AuditAction.TWO_FACTOR_DISABLED,
        origin=origin,
        commune_id=user.commune_id,
        object_type="user",
        object_id=user.id,
        at=now or utcnow(),
    )


def regenerate_recovery_codes(
    user: User, password: str, *, origin: Origin, now: datetime | None = None
) -> list[str]:
    """New recovery codes after checking the password; the old ones stop working."""
    now = now or utcnow()
    if not user.two_factor_enabled:
        raise AccountError(_("Die Zwei-Faktor-Anmeldung ist nicht eingerichtet."))
    if not passwords.verify_password(user.password_hash, password)[0]:
        raise AccountError(_("Das Passwort ist nicht richtig."))
    codes = twofactor.replace_recovery_codes(user, now)
    db.session.flush()
    record(
        AuditAction.RECOVERY_CODES_GENERATED,
        origin=origin,
        commune_id=user.commune_id,
        object_type="user",
        object_id=user.id,
        at=now,
    )
    return codes


def find_offices(commune: Commune, slugs: Sequence[str]) -> list[Office]:
    """The commune's offices with these slugs; :class:`AccountError` names any unknown one."""
    offices = list(
        db.session.scalars(select(Office).where(Office.commune_id == commune.id, Office.slug.in_(slugs)))
    )
    unknown = sorted(set(slugs) - {office.slug for office in offices})
    if unknown:
        raise AccountError(
            _(
                "Die Kommune %(commune)s hat kein Fachamt %(slugs)s.",
                commune=commune.name,
                slugs=", ".join(unknown),
            )
        )
    return offices
