"""One-time codes (RFC 6238) and recovery codes without a database: the RFC's
own test vectors, the drift window, code formats, and recovery-code hashing."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from wellness_repo import ValidationError
from wellness_repo.security.mfa import (
    check_totp_format,
    hash_recovery_code,
    matching_recovery_code,
    matching_time_step,
    new_recovery_codes,
    new_totp_secret,
    provisioning_uri,
    time_step,
)

# RFC 6238 appendix B: the SHA-1 seed is the ASCII string "1234567890" twice.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode("ascii")
MONDAY = datetime(2026, 3, 2, 9, 0, 7, tzinfo=UTC)


def at_seconds(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# ---------------------------------------------------------------- TOTP codes


@pytest.mark.parametrize(
    ("seconds", "code"),
    [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924")],
)
def test_the_rfc_6238_test_vectors_match(seconds: int, code: str) -> None:
    step = matching_time_step(RFC_SECRET, code, at_seconds(seconds))

    assert step == seconds // 30


def test_time_steps_are_thirty_seconds_since_the_epoch() -> None:
    assert time_step(at_seconds(59)) == 1
    assert time_step(at_seconds(60)) == 2


@pytest.mark.parametrize("offset_seconds", [-30, 0, 30])
def test_a_code_one_step_either_side_is_accepted_for_clock_drift(
    offset_seconds: int,
) -> None:
    secret = new_totp_secret()
    shown = pyotp.TOTP(secret).at(MONDAY + timedelta(seconds=offset_seconds))

    step = matching_time_step(secret, shown, MONDAY)

    assert step == time_step(MONDAY) + offset_seconds // 30


@pytest.mark.parametrize("offset_seconds", [-90, -60, 60, 90])
def test_a_code_two_steps_away_is_refused(offset_seconds: int) -> None:
    secret = new_totp_secret()
    shown = pyotp.TOTP(secret).at(MONDAY + timedelta(seconds=offset_seconds))

    step = matching_time_step(secret, shown, MONDAY)

    assert step is None


def test_a_code_for_another_secret_is_refused() -> None:
    shown = pyotp.TOTP(new_totp_secret()).at(MONDAY)

    assert matching_time_step(new_totp_secret(), shown, MONDAY) is None


def test_a_code_typed_with_spaces_around_it_is_trimmed() -> None:
    assert check_totp_format(" 287082 ") == "287082"


@pytest.mark.parametrize(
    "code",
    # The last string is six full-width digits, which \d would have accepted.
    [
        "28708",
        "2870821",
        "28a082",
        "",
        "\uff12\uff18\uff17\uff10\uff18\uff12",
        287082,
        None,
    ],
)
def test_a_code_that_is_not_six_digits_is_refused(code: object) -> None:
    with pytest.raises(ValidationError) as raised:
        check_totp_format(code)

    assert (raised.value.field, raised.value.rule) == ("code", "totp_format")


# ---------------------------------------------------------- secrets and URIs


def test_a_new_secret_carries_160_random_bits() -> None:
    secrets_made = {new_totp_secret() for _ in range(50)}

    assert len(secrets_made) == 50
    assert all(len(base64.b32decode(secret)) == 20 for secret in secrets_made)


def test_the_provisioning_uri_names_issuer_account_and_secret() -> None:
    secret = new_totp_secret()

    uri = provisioning_uri(secret, "jordan.avery", "Cedar Clinic")

    parsed = urlparse(uri)
    query = parse_qs(parsed.query)
    assert (parsed.scheme, parsed.netloc) == ("otpauth", "totp")
    assert parsed.path == "/Cedar%20Clinic:jordan.avery"
    assert query["secret"] == [secret]
    assert query["issuer"] == ["Cedar Clinic"]


# ------------------------------------------------------------ recovery codes


def test_ten_distinct_recovery_codes_are_issued() -> None:
    codes = new_recovery_codes()

    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"([a-z2-7]{4}-){3}[a-z2-7]{4}", code) for code in codes)


def test_a_recovery_code_hashes_the_same_however_it_is_typed() -> None:
    (code,) = new_recovery_codes(1)

    typed = code.upper().replace("-", " ")

    assert hash_recovery_code(typed) == hash_recovery_code(code)
    assert code.replace("-", "") not in hash_recovery_code(code)


def test_a_recovery_code_is_found_among_the_stored_hashes() -> None:
    codes = new_recovery_codes()
    stored = [hash_recovery_code(code) for code in codes]

    matched = matching_recovery_code(hash_recovery_code(codes[7]), stored)

    assert matched == stored[7]


def test_an_unknown_recovery_code_matches_nothing() -> None:
    stored = [hash_recovery_code(code) for code in new_recovery_codes()]
    (other,) = new_recovery_codes(1)

    assert matching_recovery_code(hash_recovery_code(other), stored) is None


@pytest.mark.parametrize("code", ["abcd-efgh", "abcd-efgh-ijkl-mno1", "", 12, None])
def test_a_malformed_recovery_code_is_refused(code: object) -> None:
    with pytest.raises(ValidationError) as raised:
        hash_recovery_code(code)

    assert (raised.value.field, raised.value.rule) == ("code", "recovery_code_format")
