"""Account passwords: argon2id hashing, rehash detection, and the strength rules a
new password must meet. Pure functions; no database.

Hashing uses OWASP's argon2id parameters (19 MiB, two passes, one lane) unless a
deployment asks for stronger ones. Strength follows NIST SP 800-63B: length
counts, composition rules do not, and passwords everyone else also chose (or that
spell out the account's own name) are refused.
"""

from __future__ import annotations

import secrets
import string
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

from wellness_repo.errors import ValidationError

__all__ = [
    "OWASP_ARGON2ID",
    "HashingParameters",
    "check_password_strength",
    "dummy_hash",
    "hash_password",
    "is_argon2id_hash",
    "needs_rehash",
    "verify_password",
]

MIN_LENGTH = 12
MAX_LENGTH = 128
# Identifiers shorter than this are left out of the containment rule: refusing
# every password that contains "jo" would refuse good passphrases for nothing.
_MIN_IDENTIFIER_LENGTH = 4
_MAX_HASH_LENGTH = 512

# Passwords of twelve characters or more that breach corpora show again and again.
_COMMON_PASSWORDS = frozenset(
    {
        "123456789012", "1234567890123", "12345678901234", "123456123456",
        "111111111111", "000000000000", "123123123123", "qwertyuiopas",
        "qwertyuiop123", "qwerty123456", "1q2w3e4r5t6y", "1qaz2wsx3edc",
        "zaq12wsxcde3", "asdfghjkl123", "passwordpassword", "iloveyouiloveyou",
        "abcdefghijkl", "abc123abc123", "changemechangeme", "letmeinletmein",
        "correcthorsebatterystaple", "trustno1trustno1", "mypassword123",
    }
)  # fmt: skip
# Words that stay guessable however many digits or symbols surround them.
_COMMON_STEMS = frozenset(
    {
        "password", "passw0rd", "p@ssw0rd", "qwerty", "qwertyuiop", "letmein",
        "welcome", "iloveyou", "admin", "administrator", "changeme", "monkey",
        "dragon", "football", "baseball", "sunshine", "princess", "master",
        "trustno1", "superman", "starwars", "shadow", "michael", "jennifer",
        "whatever", "freedom", "secret", "login", "abc", "abcdef", "asdfgh",
        "wellness", "therapy", "happypath",
    }
)  # fmt: skip
_PADDING = string.digits + string.punctuation + " "

OWASP_MINIMUM_TIME_COST = 2
OWASP_MINIMUM_MEMORY_KIB = 19_456


@dataclass(frozen=True, slots=True)
class HashingParameters:
    """The cost of an argon2id password hash.

    Args:
        time_cost: passes over memory; at least 2.
        memory_kib: memory per hash in KiB; at least 19456 (19 MiB).
        parallelism: lanes; 1 keeps the cost per login predictable on a server.
    """

    time_cost: int = 2
    memory_kib: int = 19_456
    parallelism: int = 1

    def __post_init__(self) -> None:
        if (
            self.time_cost < OWASP_MINIMUM_TIME_COST
            or self.memory_kib < OWASP_MINIMUM_MEMORY_KIB
            or self.parallelism < 1
        ):
            raise ValidationError(
                "argon2id parameters below OWASP's minimum (t=2, m=19456 KiB, p=1)",
                field="password_hashing",
                rule="minimum_cost",
            )


OWASP_ARGON2ID = HashingParameters()
"""OWASP's recommended argon2id configuration, the default for new hashes."""


@lru_cache(maxsize=8)
def _hasher(parameters: HashingParameters) -> PasswordHasher:
    return PasswordHasher(
        time_cost=parameters.time_cost,
        memory_cost=parameters.memory_kib,
        parallelism=parameters.parallelism,
        type=Type.ID,
    )


def hash_password(password: str, parameters: HashingParameters = OWASP_ARGON2ID) -> str:
    """Hash an account password with argon2id; the result embeds salt and cost."""
    return _hasher(parameters).hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from.

    A malformed stored hash counts as a mismatch rather than an error: login
    must fail closed without saying why.
    """
    try:
        return _hasher(OWASP_ARGON2ID).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(
    password_hash: str, parameters: HashingParameters = OWASP_ARGON2ID
) -> bool:
    """Whether a stored hash was made with other parameters than ``parameters``
    (a migrated hash, or costs raised since), so login should rehash it."""
    try:
        return _hasher(parameters).check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def dummy_hash(parameters: HashingParameters = OWASP_ARGON2ID) -> str:
    """A hash of a random password nobody knows, made once per process and cost.

    Login verifies against it when no account has the given email, so an unknown
    email costs the same hashing time as a wrong password.
    """
    return _dummy_hash(parameters)


@lru_cache(maxsize=8)
def _dummy_hash(parameters: HashingParameters) -> str:
    return hash_password(secrets.token_urlsafe(24), parameters)


def is_argon2id_hash(password_hash: object) -> bool:
    """Whether a ready-made hash (brought from another system) can be stored.

    Only argon2id hashes (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``) are
    accepted; weaker parameters are allowed and upgraded at the next login.
    """
    if not isinstance(password_hash, str) or len(password_hash) > _MAX_HASH_LENGTH:
        return False
    if not password_hash.startswith("$argon2id$v=19$"):
        return False
    try:
        parameters = extract_parameters(password_hash)
    except (InvalidHashError, ValueError):
        return False
    return parameters.type is Type.ID and parameters.hash_len >= 16


def check_password_strength(
    password: object, *, username: str | None = None, email: str | None = None
) -> str:
    """Check a new account password against the platform's strength rules.

    Rules, each named in the error: ``required`` (empty), ``blank`` (only
    spaces), ``min_length`` (under 12 characters), ``max_length`` (over 128),
    ``common_password`` (a well-known or trivially padded password),
    ``repetitive`` (one character repeated, or a plain run like ``abcdef...``),
    ``contains_username`` and ``contains_email`` (the account's own name).
    Length counts characters after Unicode normalisation (NFKC).

    Raises:
        ValidationError: field ``password``; the message never repeats it.
    """
    if not isinstance(password, str):
        raise _weak("a password must be text", "type")
    if password == "":
        raise _weak("a password is required", "required")
    if not password.strip():
        raise _weak("a password cannot be only spaces", "blank")
    normalised = unicodedata.normalize("NFKC", password)
    if len(normalised) < MIN_LENGTH:
        raise _weak(f"a password needs at least {MIN_LENGTH} characters", "min_length")
    if len(normalised) > MAX_LENGTH:
        raise _weak(
            f"a password may have at most {MAX_LENGTH} characters", "max_length"
        )
    folded = normalised.casefold()
    if _is_common(folded):
        raise _weak("this password is too common to be safe", "common_password")
    if _is_run(folded):
        raise _weak("a password cannot be one character or a plain run", "repetitive")
    if _contains(folded, username):
        raise _weak("a password cannot contain the username", "contains_username")
    local_part = email.partition("@")[0] if email else None
    if _contains(folded, local_part):
        raise _weak("a password cannot contain the email address", "contains_email")
    return password


def _weak(message: str, rule: str) -> ValidationError:
    return ValidationError(message, field="password", rule=rule)


def _is_common(folded: str) -> bool:
    if folded in _COMMON_PASSWORDS:
        return True
    stem = folded.strip(_PADDING)
    return stem in _COMMON_STEMS


def _is_run(folded: str) -> bool:
    steps = {ord(after) - ord(before) for before, after in pairwise(folded)}
    return len(steps) == 1 and steps <= {-1, 0, 1}


def _contains(folded: str, identifier: str | None) -> bool:
    if not identifier:
        return False
    needle = identifier.strip().casefold()
    return len(needle) >= _MIN_IDENTIFIER_LENGTH and needle in folded
