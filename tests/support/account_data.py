"""Realistic user accounts for the tests: a patient and a psychiatrist with their
sign-in details, a clock the tests move by hand, and one-time codes as an
authenticator app would show them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pyotp

from wellness_repo import DatabaseManager, UserAccount, UserRole
from wellness_repo.models.security_events import SecurityEvent, SecurityEventType
from wellness_repo.repositories.accounts import UserAccountRepository
from wellness_repo.repositories.security_events import SecurityEventRepository
from wellness_repo.security.passwords import hash_password

PATIENT_USERNAME = "jordan.avery"
PATIENT_EMAIL = "jordan.avery@example.org"
PATIENT_PASSWORD = "willow-creek-morning-walk"
CLINICIAN_USERNAME = "dr.sarah.johnson"
CLINICIAN_EMAIL = "sarah.johnson@cedarclinic.example"
CLINICIAN_PASSWORD = "lithium-levels-reviewed-friday"
NEW_PASSWORD = "heron-over-the-quiet-lake"
CLINIC_ADDRESS = "198.51.100.23"
START = datetime(2026, 3, 2, 9, 0, 7, tzinfo=UTC)


class ManualClock:
    """The current time as the tests set it; starts on a Monday morning."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward, e.g. ``advance(minutes=16)``."""
        self.now += timedelta(**delta)
        return self.now


@cache
def patient_password_hash() -> str:
    """The argon2id hash of the patient's password, made once per test run."""
    return hash_password(PATIENT_PASSWORD)


def patient_account(**changes: Any) -> UserAccount:
    """A patient's account as stored after sign-up (built without the sign-up
    call, for tests that need many accounts or a record to read raw)."""
    values: dict[str, Any] = {
        "username": PATIENT_USERNAME,
        "email": PATIENT_EMAIL,
        "role": UserRole.PATIENT,
        "password_hash": patient_password_hash(),
    }
    values.update(changes)
    return UserAccount(**values)


def account_repository(
    db: DatabaseManager, clock: ManualClock | None = None
) -> UserAccountRepository:
    """The account repository, on the real clock unless a manual one is given.

    Refused sign-ins return at once here: the timing floor that hides unknown
    emails has its own test, and would otherwise add a quarter second to every
    failure these tests provoke.
    """
    db.settings.failed_sign_in_floor_ms = 0
    if clock is None:
        return UserAccountRepository(db)
    return UserAccountRepository(db, clock=clock)


async def sign_up_patient(repo: UserAccountRepository) -> UserAccount:
    """Open the patient's account the way the sign-up service does."""
    return await repo.create_user(
        PATIENT_USERNAME, PATIENT_EMAIL, password=PATIENT_PASSWORD, role="patient"
    )


def code_at(secret: str, at: datetime) -> str:
    """The six-digit code an authenticator app with ``secret`` shows at ``at``."""
    return pyotp.TOTP(secret).at(at)


async def events_of(
    db: DatabaseManager, user_id: str | None = None
) -> list[SecurityEvent]:
    """Security events recorded for one account, oldest first (all events with
    no account when ``user_id`` is ``None``)."""
    if user_id is not None:
        recent = await SecurityEventRepository(db).recent_events(user_id)
        # Ids are ObjectIds from one process: they order events in one millisecond.
        return sorted(recent, key=lambda event: (event.occurred_at, event.id))
    return await SecurityEventRepository(db).find_by(user_id__isnull=True)


def event_types(events: list[SecurityEvent]) -> list[SecurityEventType]:
    """The types of ``events``, in order."""
    return [event.event_type for event in events]
