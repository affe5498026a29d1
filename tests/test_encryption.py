"""What app.encryption promises beyond one model: every secret column is found, and fits."""

from __future__ import annotations

from cryptography.fernet import Fernet
from flask import Flask

from app import encryption
from app.extensions import db


def test_the_reencrypt_command_finds_every_encrypted_column(app: Flask) -> None:
    names = [f"{c.table.name}.{c.name}" for c in encryption.encrypted_columns(db.metadata)]
    assert names == [
        "commune_service.webhook_secret",
        "delivery.payload",
        "delivery.signing_secret",
        "staff_user.totp_secret",
    ]


def test_the_longest_secret_fits_the_column_sized_for_it() -> None:
    longest = "𝔊" * 200  # four UTF-8 bytes each
    token = Fernet(Fernet.generate_key()).encrypt(longest.encode()).decode()
    assert len(token) <= encryption.token_length(200) < len(token) + 4
