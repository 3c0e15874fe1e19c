"""The second factor of an account: time-based one-time codes (RFC 6238) from an
authenticator app, and single-use recovery codes for a lost device. Pure
functions; no database.

Codes are six digits over 30-second time steps, accepted one step either side
of now for clock drift. Which step a code matched is returned, so the caller can
store it and refuse the same code (or an older one) a second time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp

from wellness_repo.errors import ValidationError

__all__ = [
    "RECOVERY_CODE_COUNT",
    "TOTP_DIGITS",
    "TOTP_PERIOD_SECONDS",
    "check_totp_format",
    "hash_recovery_code",
    "matching_recovery_code",
    "matching_time_step",
    "new_recovery_codes",
    "new_totp_secret",
    "provisioning_uri",
    "time_step",
]

TOTP_DIGITS = 6
TOTP_PERIOD_SECONDS = 30
TOTP_WINDOW = 1
"""Time steps accepted either side of now, for a phone clock slightly off."""
RECOVERY_CODE_COUNT = 10
_SECRET_BYTES = 20  # 160 bits, the HMAC-SHA1 key length RFC 4226 recommends
_RECOVERY_CODE_GROUPS = 4
_RECOVERY_GROUP_LENGTH = 4
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_TOTP_CODE = re.compile(r"^[0-9]{6}$")
_RECOVERY_CODE = re.compile(r"^[a-z2-7]{16}$")


def new_totp_secret() -> str:
    """A fresh authenticator secret (base32, 160 random bits)."""
    return pyotp.random_base32(length=_SECRET_BYTES * 8 // 5)


def provisioning_uri(secret: str, account_name: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app scans from a QR code."""
    return pyotp.TOTP(
        secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD_SECONDS
    ).provisioning_uri(name=account_name, issuer_name=issuer)


def time_step(at: datetime) -> int:
    """The RFC 6238 time step (30-second interval since the epoch) ``at`` is in."""
    return int(at.timestamp()) // TOTP_PERIOD_SECONDS


def check_totp_format(code: object) -> str:
    """Check that a one-time code is six digits (surrounding spaces dropped).

    Raises:
        ValidationError: field ``code``, rule ``totp_format``.
    """
    if isinstance(code, str):
        trimmed = code.strip()
        if _TOTP_CODE.match(trimmed):
            return trimmed
    raise ValidationError(
        "a one-time code is six digits", field="code", rule="totp_format"
    )


def matching_time_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step within the window around ``at`` whose code is ``code``.

    ``None`` when no step in the window matches. Every candidate is compared in
    constant time, and all of them are compared, so timing says nothing.
    """
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD_SECONDS)
    now = time_step(at)
    matched: int | None = None
    for step in range(now - TOTP_WINDOW, now + TOTP_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            matched = step
    return matched


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Fresh recovery codes, shown to the user once: ``abcd-efgh-ijkl-mnop``.

    Each carries 80 random bits, which is why a plain SHA-256 of it is a safe
    stored form (:func:`hash_recovery_code`): there is nothing to guess.
    """
    codes = []
    for _ in range(count):
        letters = "".join(
            secrets.choice(_BASE32)
            for _ in range(_RECOVERY_CODE_GROUPS * _RECOVERY_GROUP_LENGTH)
        )
        groups = [
            letters[start : start + _RECOVERY_GROUP_LENGTH]
            for start in range(0, len(letters), _RECOVERY_GROUP_LENGTH)
        ]
        codes.append("-".join(groups))
    return codes


def hash_recovery_code(code: object) -> str:
    """The stored form of a recovery code, as typed (any case, dashes or not).

    Raises:
        ValidationError: field ``code``, rule ``recovery_code_format``.
    """
    if isinstance(code, str):
        compact = re.sub(r"[\s-]", "", code).lower()
        if _RECOVERY_CODE.match(compact):
            return hashlib.sha256(compact.encode("ascii")).hexdigest()
    raise ValidationError(
        "a recovery code is sixteen letters and digits, e.g. abcd-efgh-ijkl-mnop",
        field="code",
        rule="recovery_code_format",
    )


def matching_recovery_code(code_hash: str, stored_hashes: list[str]) -> str | None:
    """The stored hash equal to ``code_hash``, compared in constant time."""
    matched: str | None = None
    for stored in stored_hashes:
        if hmac.compare_digest(stored, code_hash):
            matched = stored
    return matched
