"""Sign-in under real contention, on the real server: a burst of wrong passwords
locks the account exactly once, and a one-time code, a recovery code or a
password change raced by many requests is accepted exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest

from tests.support.account_data import (
    NEW_PASSWORD,
    PATIENT_EMAIL,
    PATIENT_PASSWORD,
    ManualClock,
    code_at,
    event_types,
    events_of,
    sign_up_patient,
)
from wellness_repo import (
    AccountLockedError,
    AuthenticationError,
    ConcurrencyError,
    DatabaseManager,
    SecurityEventType,
)
from wellness_repo.repositories.accounts import UserAccountRepository

pytestmark = pytest.mark.integration

RACERS = 8


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def accounts(mongo_db: DatabaseManager, clock: ManualClock) -> UserAccountRepository:
    return UserAccountRepository(mongo_db, clock=clock)


async def race(calls: list[Awaitable[Any]]) -> tuple[list[Any], list[BaseException]]:
    """Run the calls at once; what succeeded and what was raised."""
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    return [o for o in outcomes if not isinstance(o, BaseException)], errors


async def test_a_burst_of_wrong_passwords_locks_the_account_once(
    mongo_db: DatabaseManager, accounts: UserAccountRepository
) -> None:
    patient = await sign_up_patient(accounts)

    succeeded, errors = await race(
        [
            accounts.authenticate_user(PATIENT_EMAIL, "not-the-password-123")
            for _ in range(12)
        ]
    )

    assert succeeded == []
    assert all(isinstance(error, AuthenticationError) for error in errors)
    assert any(isinstance(error, AccountLockedError) for error in errors)
    events = event_types(await events_of(mongo_db, patient.id))
    assert events.count(SecurityEventType.ACCOUNT_LOCKED) == 1
    with pytest.raises(AccountLockedError):
        await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)


async def test_one_code_sent_by_many_requests_signs_in_once(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient = await sign_up_patient(accounts)
    secret, _ = await accounts.begin_mfa_enrollment(patient.id)
    await accounts.confirm_mfa_enrollment(patient.id, code_at(secret, clock()))
    code = code_at(secret, clock.advance(seconds=30))

    succeeded, errors = await race(
        [accounts.verify_mfa(patient.id, code) for _ in range(RACERS)]
    )

    assert len(succeeded) == 1
    assert len(errors) == RACERS - 1
    assert all(type(error) is AuthenticationError for error in errors), errors


async def test_one_recovery_code_used_by_many_requests_works_once(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient = await sign_up_patient(accounts)
    secret, _ = await accounts.begin_mfa_enrollment(patient.id)
    codes = await accounts.confirm_mfa_enrollment(patient.id, code_at(secret, clock()))

    succeeded, errors = await race(
        [accounts.use_recovery_code(patient.id, codes[5]) for _ in range(RACERS)]
    )

    assert len(succeeded) == 1
    assert all(isinstance(error, AuthenticationError) for error in errors)
    assert len(errors) == RACERS - 1
    assert (await accounts.get(patient.id)).recovery_codes_left == 9


async def test_racing_password_changes_leave_exactly_one_new_password(
    accounts: UserAccountRepository,
) -> None:
    patient = await sign_up_patient(accounts)
    candidates = [f"{NEW_PASSWORD}-{number}" for number in range(4)]

    succeeded, errors = await race(
        [
            accounts.change_password(patient.id, PATIENT_PASSWORD, candidate)
            for candidate in candidates
        ]
    )

    assert len(succeeded) == 1
    assert all(isinstance(error, ConcurrencyError) for error in errors)
    accepted = []
    for candidate in candidates:
        try:
            await accounts.authenticate_user(PATIENT_EMAIL, candidate)
        except AuthenticationError:
            continue
        accepted.append(candidate)
    assert len(accepted) == 1
