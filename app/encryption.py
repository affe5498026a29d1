"""Small secrets encrypted at rest: staff TOTP secrets and webhook signing secrets.

Values are Fernet tokens (AES-128-CBC with HMAC-SHA256) under the keys of
``DATA_ENCRYPTION_KEYS``: the first key encrypts, every key decrypts, so a key
is rotated by putting a new one in front, re-encrypting (``flask portal
reencrypt``), and then dropping the old one.

A stored value that is not a Fernet token is a secret from before encryption,
kept in clear text; it still reads, and :func:`is_current` says it wants
re-encrypting.

A model keeps the token in a column marked with :data:`ENCRYPTED` (its
``info``) and offers the clear secret as a property over it; the re-encryption
command finds every such column by that mark.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Column, MetaData, select, update
from sqlalchemy.orm import Session

#: The ``info`` of a column that holds secrets encrypted by this module.
ENCRYPTED = {"encrypted": True}

#: Rows re-encrypted per transaction by :func:`reencrypt_column`.
_BATCH = 500

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


class EncryptedAttribute:
    """A model attribute in clear text over a column that holds it encrypted.

    ``secret = EncryptedAttribute("secret_stored")`` reads decrypt the column's value on every
    access (None stays None), writes encrypt under the first key (empty becomes None). Values
    stored before encryption was introduced are read as they are (see :func:`decrypt`).
    """

    def __init__(self, stored: str) -> None:
        self.stored = stored

    def __set_name__(self, owner: type, name: str) -> None:
        self.__doc__ = f"``{name}`` in clear text, kept encrypted in ``{self.stored}``."

    def __get__(self, instance: object | None, owner: type | None = None) -> object:
        if instance is None:
            return self
        value = getattr(instance, self.stored)
        return decrypt(value) if value else None

    def __set__(self, instance: object, value: str | None) -> None:
        setattr(instance, self.stored, encrypt(value) if value else None)


def is_current(stored: str) -> bool:
    """Whether ``stored`` is encrypted under the first key, so re-encrypting would change nothing."""
    if not is_encrypted(stored):
        return False
    try:
        _keys()[0].decrypt(stored.encode("ascii"))
    except InvalidToken:
        return False
    return True


def token_length(max_characters: int) -> int:
    """The longest token for a secret of up to ``max_characters`` characters (a column's length).

    Counts four UTF-8 bytes a character; a token adds version, time, IV, padding
    and HMAC to the bytes and is URL-safe base64.
    """
    padded = (4 * max_characters // 16 + 1) * 16
    return 4 * math.ceil((1 + 8 + 16 + padded + 32) / 3)


def encrypted_columns(metadata: MetaData) -> list[Column[str]]:
    """Every column of ``metadata`` marked :data:`ENCRYPTED`, by table and column name."""
    columns = [
        column
        for table in metadata.tables.values()
        for column in table.columns
        if column.info.get("encrypted")
    ]
    return sorted(columns, key=lambda column: (column.table.name, column.name))


@dataclass
class Reencrypted:
    """What :func:`reencrypt_column` did to one column."""

    column: str
    total: int = 0
    changed: int = 0
    #: Primary keys of the rows whose secret none of the keys opens.
    undecryptable: list[object] = field(default_factory=list)


def _upgrade(stored: str) -> str | None:
    """``stored`` under the first key, or ``None`` when it is already."""
    if is_current(stored):
        return None
    return encrypt(decrypt(stored))


def reencrypt_column(session: Session, column: Column[str]) -> Reencrypted:
    """Store every secret of ``column`` under the first key; commits batch by batch.

    Clear-text secrets of old are encrypted, tokens under an older key are moved
    to the first. A row is only written while it still holds the value read, so a
    secret changed meanwhile (a new webhook secret, say) is not overwritten.
    """
    table = column.table
    [key] = table.primary_key.columns
    report = Reencrypted(f"{table.name}.{column.name}")
    last: object = None
    while True:
        query = select(key, column).where(column.is_not(None)).order_by(key).limit(_BATCH)
        if last is not None:
            query = query.where(key > last)
        rows = session.execute(query).all()
        if not rows:
            return report
        for row_key, stored in rows:
            report.total += 1
            try:
                upgraded = _upgrade(stored)
            except UndecryptableSecret:
                report.undecryptable.append(row_key)
                continue
            if upgraded is not None:
                result = session.execute(
                    update(table).where(key == row_key, column == stored).values({column.name: upgraded})
                )
                report.changed += result.rowcount
        session.commit()
        last = rows[-1][0]


def reencrypt_all(session: Session, columns: Iterable[Column[str]]) -> list[Reencrypted]:
    """:func:`reencrypt_column` for each of ``columns``."""
    return [reencrypt_column(session, column) for column in columns]
