"""Account passwords without a database: argon2id at OWASP's cost, rehash
detection, hashes brought from another system, and the strength rules."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

from wellness_repo import ValidationError
from wellness_repo.security.passwords import (
    OWASP_ARGON2ID,
    HashingParameters,
    check_password_strength,
    dummy_hash,
    hash_password,
    is_argon2id_hash,
    needs_rehash,
    verify_password,
)

PASSPHRASE = "willow-creek-morning-walk"


@pytest.fixture(scope="module")
def stored_hash() -> str:
    return hash_password(PASSPHRASE)


def weak_legacy_hash(password: str) -> str:
    """An argon2id hash as an older system made it: one pass, 8 MiB."""
    return PasswordHasher(time_cost=1, memory_cost=8192, parallelism=2).hash(password)


# ------------------------------------------------------------------ hashing


def test_a_password_is_hashed_with_argon2id_at_owasp_cost(stored_hash: str) -> None:
    parameters = extract_parameters(stored_hash)

    assert parameters.type is Type.ID
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
        2,
        19_456,
        1,
    )
    assert PASSPHRASE not in stored_hash


def test_the_same_password_hashes_differently_each_time() -> None:
    first = hash_password(PASSPHRASE)

    second = hash_password(PASSPHRASE)

    assert first != second


def test_the_right_password_verifies(stored_hash: str) -> None:
    assert verify_password(stored_hash, PASSPHRASE) is True


def test_a_wrong_password_does_not_verify(stored_hash: str) -> None:
    assert verify_password(stored_hash, "willow-creek-evening-walk") is False


def test_a_malformed_stored_hash_fails_closed() -> None:
    assert verify_password("$argon2id$v=19$m=19456,t=2,p=1$broken", PASSPHRASE) is False


def test_costs_below_owasps_minimum_are_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        HashingParameters(time_cost=1, memory_kib=19_456)

    assert raised.value.rule == "minimum_cost"


# ------------------------------------------------------------------ rehash


def test_a_hash_at_the_current_cost_needs_no_rehash(stored_hash: str) -> None:
    assert needs_rehash(stored_hash, OWASP_ARGON2ID) is False


def test_a_hash_made_at_a_lower_cost_needs_rehash() -> None:
    legacy = weak_legacy_hash(PASSPHRASE)

    assert needs_rehash(legacy, OWASP_ARGON2ID) is True


def test_raising_the_configured_cost_makes_existing_hashes_need_rehash(
    stored_hash: str,
) -> None:
    stronger = HashingParameters(time_cost=3, memory_kib=65_536)

    assert needs_rehash(stored_hash, stronger) is True


def test_a_rehash_at_the_new_cost_still_verifies_the_same_password() -> None:
    stronger = HashingParameters(time_cost=3, memory_kib=19_456)

    rehashed = hash_password(PASSPHRASE, stronger)

    assert extract_parameters(rehashed).time_cost == 3
    assert verify_password(rehashed, PASSPHRASE) is True


def test_the_dummy_hash_is_made_once_and_matches_no_guess() -> None:
    first = dummy_hash()

    second = dummy_hash()

    assert first is second
    assert extract_parameters(first).memory_cost == OWASP_ARGON2ID.memory_kib
    assert verify_password(first, PASSPHRASE) is False


# ---------------------------------------------------------- imported hashes


def test_an_argon2id_hash_from_another_system_is_accepted() -> None:
    assert is_argon2id_hash(weak_legacy_hash(PASSPHRASE)) is True


@pytest.mark.parametrize(
    "candidate",
    [
        "hashed_password",
        "",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        PasswordHasher(type=Type.I).hash(PASSPHRASE),
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ",
        "$argon2id$v=19$" + "m" * 600,
        None,
    ],
    ids=["seed", "empty", "bcrypt", "argon2i", "truncated", "huge", "none"],
)
def test_anything_but_an_argon2id_hash_is_refused(candidate: object) -> None:
    assert is_argon2id_hash(candidate) is False


# ----------------------------------------------------------------- strength


def test_a_long_passphrase_is_strong_enough() -> None:
    accepted = check_password_strength(
        PASSPHRASE, username="jordan.avery", email="jordan.avery@example.org"
    )

    assert accepted == PASSPHRASE


def test_length_is_counted_in_characters_not_bytes() -> None:
    accepted = check_password_strength("жёлтый-клён-ок")

    assert accepted == "жёлтый-клён-ок"


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("", "required"),
        (" " * 14, "blank"),
        ("short-walk", "min_length"),
        ("long-walk-" * 13, "max_length"),
        ("Password2024!", "common_password"),
        ("qwerty123456", "common_password"),
        ("!!welcome2026!!", "common_password"),
        ("zzzzzzzzzzzzzz", "repetitive"),
        ("bcdefghijklmno", "repetitive"),
        ("my-name-is-Jordan.Avery", "contains_username"),
        ("write-to-jordan-a@example", "contains_email"),
        (12345678901234, "type"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 20 else None,
)
def test_a_weak_password_is_refused_naming_the_rule(
    password: object, rule: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        check_password_strength(
            password, username="jordan.avery", email="jordan-a@example.org"
        )

    assert (raised.value.field, raised.value.rule) == ("password", rule)
    if isinstance(password, str) and password.strip():
        assert password not in str(raised.value)


def test_a_short_identifier_does_not_veto_passwords_containing_it() -> None:
    accepted = check_password_strength(
        "a-long-walk-by-the-river", username="al", email="al@example.org"
    )

    assert accepted == "a-long-walk-by-the-river"
