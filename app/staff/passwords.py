"""Password hashing (argon2) and the password policy for staff accounts."""

from __future__ import annotations

import contextlib
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 takes any length; this bounds the work per attempt

#: The hasher of the portal. Its parameters are argon2-cffi's current defaults;
#: when they change, :func:`verify_password` reports that a stored hash needs a rehash.
hasher = PasswordHasher()


class PasswordPolicyError(ValueError):
    """A new password does not meet the policy; the message says why, in German."""


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of frequently used passwords, in lower case."""
    path = Path(__file__).with_name("common_passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_password_policy(password: str, *, email: str = "") -> None:
    """Raise :class:`PasswordPolicyError` when ``password`` may not be used.

    At least 12 characters; not the e-mail address (or its part before the @); not one
    character repeated; not on the list of frequently used passwords.
    """
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(
            _("Das Passwort muss mindestens %(min)d Zeichen lang sein.", min=MIN_LENGTH)
        )
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(_("Das Passwort darf höchstens %(max)d Zeichen lang sein.", max=MAX_LENGTH))
    lowered = password.strip().lower()
    email = email.strip().lower()
    if email and lowered in {email, email.split("@", 1)[0]}:
        raise PasswordPolicyError(_("Das Passwort darf nicht Ihre E-Mail-Adresse sein."))
    if len(set(lowered)) == 1:
        raise PasswordPolicyError(
            _("Das Passwort darf nicht aus einem einzigen, wiederholten Zeichen bestehen.")
        )
    if lowered in common_passwords():
        raise PasswordPolicyError(
            _(
                "Dieses Passwort wird sehr häufig benutzt und ist daher leicht zu erraten. "
                "Bitte wählen Sie ein anderes."
            )
        )


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` with the portal's current parameters."""
    return hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> tuple[bool, bool]:
    """Check ``password`` against ``stored_hash``.

    Returns ``(matches, needs_rehash)``. Without a stored hash a dummy hash is
    verified, so an unknown account takes as long as a known one.
    """
    if len(password) > MAX_LENGTH:
        return False, False
    if not stored_hash:
        with contextlib.suppress(VerificationError):
            hasher.verify(_dummy_hash(), password)
        return False, False
    try:
        hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False, False
    return True, hasher.check_needs_rehash(stored_hash)


@cache
def _dummy_hash() -> str:
    return hasher.hash("no account has this password")
