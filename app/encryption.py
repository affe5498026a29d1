"""Small secrets encrypted at rest, such as staff TOTP secrets.

Values are Fernet tokens (AES-128-CBC with HMAC-SHA256) under the keys of
``DATA_ENCRYPTION_KEYS``: the first key encrypts, every key decrypts, so a key
is rotated by putting a new one in front, re-encrypting (``flask users
reencrypt``), and then dropping the old one.

A stored value that is not a Fernet token is a secret from before encryption,
kept in clear text; it still reads, and :func:`is_current` says it wants
re-encrypting.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

#: Every Fernet token starts with its version byte 0x80 and a timestamp, in base64.
_TOKEN_PREFIX = "gAAAAA"


class UndecryptableSecret(RuntimeError):
    """A stored secret none of the ``DATA_ENCRYPTION_KEYS`` opens (a key dropped too early?)."""


def _keys() -> list[Fernet]:
    return [Fernet(key) for key in current_app.config["DATA_ENCRYPTION_KEYS"]]


def is_encrypted(stored: str) -> bool:
    """Whether ``stored`` is a Fernet token rather than a clear-text secret of old."""
    return stored.startswith(_TOKEN_PREFIX)


def encrypt(secret: str) -> str:
    """``secret`` as a token under the first key."""
    return _keys()[0].encrypt(secret.encode()).decode("ascii")


def decrypt(stored: str) -> str:
    """The secret in ``stored``: a token under any of the keys, or clear text of old."""
    if not is_encrypted(stored):
        return stored
    try:
        return MultiFernet(_keys()).decrypt(stored.encode("ascii")).decode()
    except InvalidToken as exc:
        raise UndecryptableSecret(
            "a stored secret cannot be decrypted with any of DATA_ENCRYPTION_KEYS"
        ) from exc


def is_current(stored: str) -> bool:
    """Whether ``stored`` is encrypted under the first key, so re-encrypting would change nothing."""
    if not is_encrypted(stored):
        return False
    try:
        _keys()[0].decrypt(stored.encode("ascii"))
    except InvalidToken:
        return False
    return True
