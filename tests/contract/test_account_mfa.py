"""The second factor on both backends: enrolling an authenticator app, codes
accepted once and only near their time, wrong codes counted toward the lockout,
recovery codes that work once and are stored only as hashes, and switching MFA
off."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from tests.support.account_data import (
    PATIENT_EMAIL,
    PATIENT_PASSWORD,
    ManualClock,
    account_repository,
    code_at,
    event_types,
    events_of,
    sign_up_patient,
)
from tests.support.care_data import stored_document
from wellness_repo import (
    AccountLockedError,
    AuthenticationError,
    DatabaseManager,
    SecurityEventDetail,
    SecurityEventType,
    SessionEndReason,
    UserAccount,
    ValidationError,
)
from wellness_repo.repositories.accounts import UserAccountRepository
from wellness_repo.repositories.security_events import UserSessionRepository


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def accounts(db: DatabaseManager, clock: ManualClock) -> UserAccountRepository:
    return account_repository(db, clock)


async def enrolled_patient(
    accounts: UserAccountRepository, clock: ManualClock
) -> tuple[UserAccount, str, list[str]]:
    """The patient's account with MFA on: the account, its authenticator secret
    and its recovery codes. The clock is moved past the confirming code."""
    patient = await sign_up_patient(accounts)
    secret, _ = await accounts.begin_mfa_enrollment(patient.id)
    codes = await accounts.confirm_mfa_enrollment(patient.id, code_at(secret, clock()))
    clock.advance(seconds=30)
    return await accounts.get(patient.id), secret, codes


def wrong_code(secret: str, clock: ManualClock) -> str:
    """A six-digit code that is not the one the app shows around now."""
    near = {code_at(secret, clock.now + timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in near)


# ---------------------------------------------------------------- enrollment


async def test_enrollment_begins_with_a_secret_and_an_authenticator_uri(
    accounts: UserAccountRepository,
) -> None:
    patient = await sign_up_patient(accounts)

    secret, uri = await accounts.begin_mfa_enrollment(patient.id)

    assert uri.startswith("otpauth://totp/Wellness:jordan.avery?")
    assert f"secret={secret}" in uri
    assert (await accounts.get(patient.id)).mfa_enabled is False


async def test_a_valid_first_code_turns_mfa_on_and_returns_ten_recovery_codes(
    db: DatabaseManager, accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient = await sign_up_patient(accounts)
    secret, _ = await accounts.begin_mfa_enrollment(patient.id)

    codes = await accounts.confirm_mfa_enrollment(patient.id, code_at(secret, clock()))

    stored = await accounts.get(patient.id)
    assert len(set(codes)) == 10
    assert (stored.mfa_enabled, stored.recovery_codes_left) == (True, 10)
    assert SecurityEventType.MFA_ENROLLED in event_types(
        await events_of(db, patient.id)
    )


async def test_recovery_codes_are_stored_only_as_hashes(
    db: DatabaseManager, accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, _, codes = await enrolled_patient(accounts, clock)

    raw = str(await stored_document(db, UserAccount, patient.id))

    for code in codes:
        assert code not in raw
        assert code.replace("-", "") not in raw


async def test_a_wrong_first_code_is_refused_and_leaves_mfa_off(
    db: DatabaseManager, accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient = await sign_up_patient(accounts)
    secret, _ = await accounts.begin_mfa_enrollment(patient.id)
    before = await stored_document(db, UserAccount, patient.id)

    with pytest.raises(ValidationError) as raised:
        await accounts.confirm_mfa_enrollment(patient.id, wrong_code(secret, clock))

    assert (raised.value.field, raised.value.rule) == ("code", "totp_mismatch")
    assert await stored_document(db, UserAccount, patient.id) == before


async def test_a_malformed_first_code_is_refused_naming_the_field(
    accounts: UserAccountRepository,
) -> None:
    patient = await sign_up_patient(accounts)
    await accounts.begin_mfa_enrollment(patient.id)

    with pytest.raises(ValidationError) as raised:
        await accounts.confirm_mfa_enrollment(patient.id, "12 34")

    assert (raised.value.field, raised.value.rule) == ("code", "totp_format")


async def test_confirming_without_a_begun_enrollment_is_refused(
    accounts: UserAccountRepository,
) -> None:
    patient = await sign_up_patient(accounts)

    with pytest.raises(ValidationError) as raised:
        await accounts.confirm_mfa_enrollment(patient.id, "287082")

    assert raised.value.rule == "not_enrolling"


async def test_enrolling_again_while_mfa_is_on_is_refused(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, _, _ = await enrolled_patient(accounts, clock)

    with pytest.raises(ValidationError) as raised:
        await accounts.begin_mfa_enrollment(patient.id)

    assert raised.value.rule == "already_enabled"


# ------------------------------------------------------------------- sign-in


async def test_with_mfa_on_a_correct_password_still_requires_a_code(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    await enrolled_patient(accounts, clock)

    result = await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)

    assert result.mfa_required is True
    assert result.account.last_login_at is None


async def test_the_current_code_completes_the_sign_in(
    db: DatabaseManager, accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, secret, _ = await enrolled_patient(accounts, clock)
    await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)

    signed_in = await accounts.verify_mfa(patient.id, code_at(secret, clock()))

    assert signed_in.last_login_at == clock.now
    assert event_types(await events_of(db, patient.id))[-1] is (
        SecurityEventType.MFA_SUCCESS
    )


async def test_a_code_is_accepted_only_once(
    db: DatabaseManager, accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, secret, _ = await enrolled_patient(accounts, clock)
    code = code_at(secret, clock())
    await accounts.verify_mfa(patient.id, code)

    with pytest.raises(AuthenticationError):
        await accounts.verify_mfa(patient.id, code)

    last = (await events_of(db, patient.id))[-1]
    assert (last.event_type, last.success) == (SecurityEventType.MFA_FAILURE, False)
    assert last.detail is SecurityEventDetail.REPLAYED_MFA_CODE


async def test_a_replayed_code_is_not_counted_as_a_guess(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, secret, _ = await enrolled_patient(accounts, clock)
    code = code_at(secret, clock())
    await accounts.verify_mfa(patient.id, code)

    for _ in range(6):
        with pytest.raises(AuthenticationError) as raised:
            await accounts.verify_mfa(patient.id, code)

    assert type(raised.value) is AuthenticationError
    assert (await accounts.get(patient.id)).failed_login_count == 0


async def test_an_older_code_is_refused_after_a_newer_one_was_used(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, secret, _ = await enrolled_patient(accounts, clock)
    older = code_at(secret, clock())
    await accounts.verify_mfa(patient.id, code_at(secret, clock.advance(seconds=30)))

    with pytest.raises(AuthenticationError):
        await accounts.verify_mfa(patient.id, older)


async def test_a_code_from_a_minute_ago_is_refused(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, secret, _ = await enrolled_patient(accounts, clock)
    stale = code_at(secret, clock())
    clock.advance(seconds=61)

    with pytest.raises(AuthenticationError):
        await accounts.verify_mfa(patient.id, stale)


async def test_wrong_codes_count_toward_the_lockout(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, secret, _ = await enrolled_patient(accounts, clock)
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            await accounts.verify_mfa(patient.id, wrong_code(secret, clock))

    with pytest.raises(AccountLockedError):
        await accounts.verify_mfa(patient.id, wrong_code(secret, clock))

    with pytest.raises(AccountLockedError):
        await accounts.verify_mfa(patient.id, code_at(secret, clock()))


async def test_a_correct_password_does_not_reset_the_count_of_wrong_codes(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, secret, _ = await enrolled_patient(accounts, clock)
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            await accounts.verify_mfa(patient.id, wrong_code(secret, clock))

    await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)

    assert (await accounts.get(patient.id)).failed_login_count == 3


async def test_a_malformed_code_is_refused_and_not_counted(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, _, _ = await enrolled_patient(accounts, clock)

    with pytest.raises(ValidationError) as raised:
        await accounts.verify_mfa(patient.id, "28708")

    assert (raised.value.field, raised.value.rule) == ("code", "totp_format")
    assert (await accounts.get(patient.id)).failed_login_count == 0


async def test_verifying_a_code_without_mfa_is_refused(
    accounts: UserAccountRepository,
) -> None:
    patient = await sign_up_patient(accounts)

    with pytest.raises(ValidationError) as raised:
        await accounts.verify_mfa(patient.id, "287082")

    assert raised.value.rule == "not_enabled"


# ------------------------------------------------------------ recovery codes


async def test_a_recovery_code_completes_a_sign_in_once(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, _, codes = await enrolled_patient(accounts, clock)

    signed_in = await accounts.use_recovery_code(patient.id, codes[3])

    assert signed_in.recovery_codes_left == 9
    with pytest.raises(AuthenticationError):
        await accounts.use_recovery_code(patient.id, codes[3])


async def test_a_recovery_code_is_accepted_however_it_is_typed(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, _, codes = await enrolled_patient(accounts, clock)

    signed_in = await accounts.use_recovery_code(
        patient.id, codes[0].upper().replace("-", " ")
    )

    assert signed_in.last_login_at == clock.now


async def test_a_wrong_recovery_code_counts_as_a_failed_attempt(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, _, _ = await enrolled_patient(accounts, clock)

    with pytest.raises(AuthenticationError):
        await accounts.use_recovery_code(patient.id, "aaaa-bbbb-cccc-dddd")

    stored = await accounts.get(patient.id)
    assert (stored.failed_login_count, stored.recovery_codes_left) == (1, 10)


# ------------------------------------------------------------ switching off


async def test_mfa_is_switched_off_with_a_current_code_and_sessions_end(
    db: DatabaseManager, accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, secret, _ = await enrolled_patient(accounts, clock)
    sessions = UserSessionRepository(db)
    await sessions.create_session(patient.id, mfa_verified=True)

    disabled = await accounts.disable_mfa(patient.id, code_at(secret, clock()))

    assert (disabled.mfa_enabled, disabled.totp_secret) == (False, None)
    assert disabled.recovery_codes_left == 0
    ended = await sessions.find_by(user_id=patient.id)
    assert [s.revoked_reason for s in ended] == [SessionEndReason.MFA_RESET]
    result = await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)
    assert result.mfa_required is False


async def test_a_wrong_code_does_not_switch_mfa_off(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient, secret, _ = await enrolled_patient(accounts, clock)

    with pytest.raises(AuthenticationError):
        await accounts.disable_mfa(patient.id, wrong_code(secret, clock))

    assert (await accounts.get(patient.id)).mfa_enabled is True


# ------------------------------------------------------------------ secrets


async def test_the_authenticator_secret_stays_out_of_repr_and_logs(
    accounts: UserAccountRepository,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    patient, secret, codes = await enrolled_patient(accounts, clock)
    await accounts.verify_mfa(patient.id, code_at(secret, clock()))
    await accounts.use_recovery_code(patient.id, codes[0])

    logged = "\n".join(record.getMessage() for record in caplog.records)
    for shown in (logged, repr(patient)):
        assert secret not in shown
        assert codes[0] not in shown
