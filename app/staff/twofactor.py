"""TOTP two-factor authentication (RFC 6238, via pyotp) and recovery codes."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime

import pyotp
from reportlab.graphics import renderSVG
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing

from app.encryption import UndecryptableSecret
from app.staff import passwords
from app.staff.models import RecoveryCode, User

log = logging.getLogger(__name__)

ISSUER = "Kommunalportal"
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: the codes are read off paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_GROUPS = 3
_RECOVERY_GROUP_LENGTH = 4
#: One time step either side, for clocks a little off.
VALID_WINDOW = 1


def new_secret() -> str:
    """A fresh random TOTP secret (base32, 160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(user: User, secret: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_code_svg(data: str, size: int = 240) -> str:
    """``data`` as a QR code, an SVG document of ``size`` × ``size`` points."""
    widget = QrCodeWidget(data, barLevel="M", barWidth=size, barHeight=size)
    drawing = Drawing(size, size)
    drawing.add(widget)
    return renderSVG.drawToString(drawing)


def normalise_code(code: str) -> str:
    """What the user typed, without spaces and dashes, in lower case."""
    return "".join(ch for ch in code.lower() if ch.isalnum())


def verify_totp(user: User, code: str, now: datetime) -> bool:
    """Check a TOTP code of the user's secret; each code is accepted only once.

    On success the time step is remembered, so the same code (or an older one)
    cannot be replayed, and a secret not yet stored under the first of the
    ``DATA_ENCRYPTION_KEYS`` is re-encrypted under it. A secret no key opens is
    logged and fails the check, which leaves the recovery codes as a way in.
    """
    code = normalise_code(code)
    if not user.totp_secret_stored or len(code) != 6 or not code.isdigit():
        return False
    try:
        secret = user.totp_secret
    except UndecryptableSecret:
        log.exception("the TOTP secret of user %s cannot be decrypted", user.id)
        return False
    assert secret is not None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            user.reencrypt_totp_secret()
            return True
    return False


def _random_recovery_code() -> str:
    groups = (
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_GROUP_LENGTH))
        for _ in range(_RECOVERY_GROUPS)
    )
    return "-".join(groups)


def replace_recovery_codes(user: User, now: datetime) -> list[str]:
    """Give the user :data:`RECOVERY_CODE_COUNT` new codes; the old ones stop working.

    Returns the codes in clear text: this is the only time they exist so.
    """
    codes = [_random_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    user.recovery_codes.clear()
    for code in codes:
        user.recovery_codes.append(
            RecoveryCode(code_hash=passwords.hash_password(normalise_code(code)), created_at=now)
        )
    return codes


def use_recovery_code(user: User, code: str, now: datetime) -> bool:
    """Accept an unused recovery code of the user once, and mark it used."""
    code = normalise_code(code)
    if len(code) != _RECOVERY_GROUPS * _RECOVERY_GROUP_LENGTH:
        return False
    for stored in user.recovery_codes:
        if stored.used_at is None and passwords.verify_password(stored.code_hash, code)[0]:
            stored.used_at = now
            return True
    return False


def unused_recovery_codes(user: User) -> int:
    return sum(1 for stored in user.recovery_codes if stored.used_at is None)
