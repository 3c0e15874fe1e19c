"""User accounts on both backends: sign-up with normalised, unique emails and
usernames; sign-in with lockout; rehashing; password changes that end sessions;
an administrator's lock and deactivation; and bad input that writes nothing."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from argon2 import PasswordHasher, extract_parameters
from bson.binary import Binary

from tests.conftest import SYSTEM, drop_and_close
from tests.support.account_data import (
    CLINIC_ADDRESS,
    CLINICIAN_EMAIL,
    CLINICIAN_PASSWORD,
    CLINICIAN_USERNAME,
    NEW_PASSWORD,
    PATIENT_EMAIL,
    PATIENT_PASSWORD,
    PATIENT_USERNAME,
    ManualClock,
    account_repository,
    event_types,
    events_of,
    sign_up_patient,
)
from tests.support.care_data import (
    psychiatrist,
    stored_count,
    stored_document,
)
from tests.support.encryption import open_encrypted_database
from wellness_repo import (
    AccessContext,
    AccessDeniedError,
    AccountLockedError,
    AuthenticationError,
    DatabaseManager,
    DuplicateError,
    RolePolicy,
    SecurityEventType,
    SessionEndReason,
    UserAccount,
    UserRole,
    ValidationError,
    acting_as,
    connect_sync,
    context_for_account,
    create_user_account_repository,
)
from wellness_repo.repositories import account_base
from wellness_repo.repositories.accounts import UserAccountRepository
from wellness_repo.repositories.care import ProviderRepository
from wellness_repo.repositories.security_events import UserSessionRepository
from wellness_repo.security.passwords import dummy_hash

WRONG_PASSWORD = "willow-creek-evening-walk"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def accounts(db: DatabaseManager, clock: ManualClock) -> UserAccountRepository:
    return account_repository(db, clock)


async def fail_sign_ins(repo: UserAccountRepository, times: int) -> None:
    """Sign in with a wrong password ``times`` times, expecting each refusal."""
    for _ in range(times):
        with pytest.raises(AuthenticationError):
            await repo.authenticate_user(PATIENT_EMAIL, WRONG_PASSWORD)


# ------------------------------------------------------------------ sign-up


async def test_sign_up_stores_username_and_email_trimmed_in_lower_case(
    db: DatabaseManager, accounts: UserAccountRepository
) -> None:
    created = await accounts.create_user(
        "  Jordan.Avery ", " Jordan.Avery@Example.ORG ", password=PATIENT_PASSWORD,
        role=UserRole.PATIENT,
    )  # fmt: skip

    raw = await stored_document(db, UserAccount, created.user_id)
    assert raw["username"] == PATIENT_USERNAME
    assert raw["email"].subtype == 6  # stored encrypted, deterministically
    assert (await accounts.get(created.user_id)).email == PATIENT_EMAIL
    assert created.role is UserRole.PATIENT


async def test_the_password_is_stored_only_as_an_argon2id_hash(
    db: DatabaseManager, accounts: UserAccountRepository
) -> None:
    created = await sign_up_patient(accounts)

    raw = await stored_document(db, UserAccount, created.id)
    assert PATIENT_PASSWORD not in str(raw)
    assert raw["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_an_argon2id_hash_from_another_system_can_sign_in(
    accounts: UserAccountRepository,
) -> None:
    migrated = PasswordHasher(time_cost=3, memory_cost=65_536).hash(PATIENT_PASSWORD)
    await accounts.create_user(
        PATIENT_USERNAME, PATIENT_EMAIL, password_hash=migrated, role="patient"
    )

    result = await accounts.authenticate_user(
        email=PATIENT_EMAIL, password=PATIENT_PASSWORD
    )

    assert result.account.username == PATIENT_USERNAME


async def test_the_seeds_placeholder_hash_is_refused_as_no_argon2id_hash(
    db: DatabaseManager, accounts: UserAccountRepository
) -> None:
    with pytest.raises(ValidationError) as raised:
        await accounts.create_user(
            username="john.doe",
            email="john@example.com",
            password_hash="hashed_password",
            role=UserRole.PATIENT,
        )

    assert (raised.value.field, raised.value.rule) == ("password_hash", "hash_format")
    assert await stored_count(db, UserAccount) == 0


async def test_an_email_taken_in_another_case_is_a_duplicate(
    accounts: UserAccountRepository,
) -> None:
    await sign_up_patient(accounts)

    with pytest.raises(DuplicateError) as raised:
        await accounts.create_user(
            "jordan.a",
            "JORDAN.AVERY@example.org",
            password=NEW_PASSWORD,
            role="patient",
        )

    assert raised.value.key == ("email",)
    assert "jordan" not in str(raised.value).lower()


async def test_a_username_taken_in_another_case_is_a_duplicate(
    accounts: UserAccountRepository,
) -> None:
    await sign_up_patient(accounts)

    with pytest.raises(DuplicateError) as raised:
        await accounts.create_user(
            "JORDAN.Avery", "j.avery@example.net", password=NEW_PASSWORD, role="patient"
        )

    assert raised.value.key == ("username",)


async def test_a_clinician_account_is_linked_to_their_provider_record(
    db: DatabaseManager, accounts: UserAccountRepository
) -> None:
    provider = await ProviderRepository(db).create(psychiatrist())

    created = await accounts.create_user(
        CLINICIAN_USERNAME,
        CLINICIAN_EMAIL,
        password=CLINICIAN_PASSWORD,
        role=UserRole.PSYCHIATRIST,
        provider_id=provider.provider_id,
    )

    assert created.provider_id == provider.provider_id


async def test_a_provider_record_signs_in_through_one_account_only(
    db: DatabaseManager, accounts: UserAccountRepository
) -> None:
    provider = await ProviderRepository(db).create(psychiatrist())
    await accounts.create_user(
        CLINICIAN_USERNAME, CLINICIAN_EMAIL, password=CLINICIAN_PASSWORD,
        role="psychiatrist", provider_id=provider.id,
    )  # fmt: skip

    with pytest.raises(DuplicateError) as raised:
        await accounts.create_user(
            "s.johnson.md", "sjohnson@cedarclinic.example", password=NEW_PASSWORD,
            role="psychiatrist", provider_id=provider.id,
        )  # fmt: skip

    assert raised.value.key == ("provider_id",)


BAD_SIGN_UPS: list[tuple[str, dict[str, Any], str, str]] = [
    ("weak password", {"password": "password1234"}, "password", "common_password"),
    ("empty password", {"password": ""}, "password", "required"),
    ("short password", {"password": "sertraline"}, "password", "min_length"),
    ("malformed email", {"email": "jordan.avery@"}, "email", "email_format"),
    ("spaced email", {"email": "jordan avery@example.org"}, "email", "email_format"),
    ("invalid role", {"role": "superuser"}, "role", "enum"),
    ("malformed username", {"username": "j"}, "username", "username_format"),
    (
        "both password and hash",
        {"password_hash": "$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB"},
        "password",
        "exactly_one",
    ),
    ("neither password nor hash", {"password": None}, "password", "exactly_one"),
    ("unknown provider", {"role": "therapist", "provider_id": "prov_404"},
     "provider_id", "unknown_provider"),
    ("patient linked to a provider", {"provider_id": "prov_1"},
     "provider_id", "provider_link_role"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "field", "rule"),
    [case[1:] for case in BAD_SIGN_UPS],
    ids=[case[0] for case in BAD_SIGN_UPS],
)
async def test_bad_sign_up_input_is_refused_and_writes_nothing(
    db: DatabaseManager,
    accounts: UserAccountRepository,
    arguments: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    values: dict[str, Any] = {
        "username": PATIENT_USERNAME,
        "email": PATIENT_EMAIL,
        "password": PATIENT_PASSWORD,
        "role": "patient",
    }
    values.update(arguments)

    with pytest.raises(ValidationError) as raised:
        await accounts.create_user(**values)

    assert (raised.value.field, raised.value.rule) == (field, rule)
    assert await stored_count(db, UserAccount) == 0


# ------------------------------------------------------------------ sign-in


async def test_the_seeds_sign_in_call_returns_the_account(
    accounts: UserAccountRepository,
) -> None:
    created = await sign_up_patient(accounts)

    authenticated = await accounts.authenticate_user(
        email="Jordan.Avery@example.org", password=PATIENT_PASSWORD
    )

    assert authenticated.user_id == created.user_id
    assert authenticated.mfa_required is False


async def test_a_sign_in_stamps_the_time_and_records_a_security_event(
    db: DatabaseManager, accounts: UserAccountRepository, clock: ManualClock
) -> None:
    created = await sign_up_patient(accounts)

    result = await accounts.authenticate_user(
        PATIENT_EMAIL, PATIENT_PASSWORD, ip_address=CLINIC_ADDRESS
    )

    assert result.account.last_login_at == clock.now
    events = await events_of(db, created.id)
    assert event_types(events) == [SecurityEventType.LOGIN_SUCCESS]
    assert events[0].ip_address == CLINIC_ADDRESS


async def test_a_wrong_password_and_an_unknown_email_get_the_same_refusal(
    accounts: UserAccountRepository,
) -> None:
    await sign_up_patient(accounts)

    with pytest.raises(AuthenticationError) as wrong_password:
        await accounts.authenticate_user(PATIENT_EMAIL, WRONG_PASSWORD)
    with pytest.raises(AuthenticationError) as unknown_email:
        await accounts.authenticate_user("casey.lee@example.org", PATIENT_PASSWORD)

    assert type(wrong_password.value) is type(unknown_email.value)
    assert str(wrong_password.value) == str(unknown_email.value)


async def test_every_refusal_takes_at_least_the_sign_in_floor(
    db: DatabaseManager, accounts: UserAccountRepository
) -> None:
    await sign_up_patient(accounts)
    db.settings.failed_sign_in_floor_ms = 200
    durations = []

    for email, password in (
        ("casey.lee@example.org", PATIENT_PASSWORD),
        (PATIENT_EMAIL, WRONG_PASSWORD),
    ):
        started = time.monotonic()
        with pytest.raises(AuthenticationError):
            await accounts.authenticate_user(email, password)
        durations.append(time.monotonic() - started)

    assert min(durations) >= 0.2


async def test_an_unknown_email_is_verified_against_the_dummy_hash(
    db: DatabaseManager,
    accounts: UserAccountRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verified: list[str] = []
    real_verify = account_base.verify_password

    def spying_verify(password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(account_base, "verify_password", spying_verify)

    with pytest.raises(AuthenticationError):
        await accounts.authenticate_user("casey.lee@example.org", PATIENT_PASSWORD)

    assert verified == [dummy_hash()]
    unattributed = await events_of(db, None)
    assert event_types(unattributed) == [SecurityEventType.LOGIN_FAILURE]


async def test_a_wrong_password_is_counted(
    accounts: UserAccountRepository,
) -> None:
    created = await sign_up_patient(accounts)

    await fail_sign_ins(accounts, 2)

    assert (await accounts.get(created.id)).failed_login_count == 2


async def test_five_failures_lock_the_account_for_fifteen_minutes(
    db: DatabaseManager, accounts: UserAccountRepository, clock: ManualClock
) -> None:
    created = await sign_up_patient(accounts)
    await fail_sign_ins(accounts, 4)

    with pytest.raises(AccountLockedError) as raised:
        await accounts.authenticate_user(PATIENT_EMAIL, WRONG_PASSWORD)

    assert (raised.value.locked_until - clock.now).total_seconds() == 15 * 60
    stored = await accounts.get(created.id)
    assert stored.locked_until == raised.value.locked_until
    events = event_types(await events_of(db, created.id))
    assert events.count(SecurityEventType.ACCOUNT_LOCKED) == 1


async def test_the_right_password_is_refused_while_the_account_is_locked(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    await sign_up_patient(accounts)
    await fail_sign_ins(accounts, 5)
    clock.advance(minutes=14)

    with pytest.raises(AccountLockedError):
        await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)


async def test_the_right_password_works_again_once_the_lock_has_ended(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    await sign_up_patient(accounts)
    await fail_sign_ins(accounts, 5)
    clock.advance(minutes=15, seconds=1)

    result = await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)

    assert result.account.locked_until is None
    assert result.account.failed_login_count == 0


async def test_lockout_threshold_and_duration_come_from_the_settings(
    db: DatabaseManager, clock: ManualClock
) -> None:
    db.settings = db.settings.model_copy(
        update={"lockout_threshold": 3, "lockout_minutes": 60}
    )
    accounts = account_repository(db, clock)
    await sign_up_patient(accounts)
    await fail_sign_ins(accounts, 2)

    with pytest.raises(AccountLockedError) as raised:
        await accounts.authenticate_user(PATIENT_EMAIL, WRONG_PASSWORD)

    assert (raised.value.locked_until - clock.now).total_seconds() == 60 * 60


async def test_a_successful_sign_in_resets_the_failure_count(
    accounts: UserAccountRepository,
) -> None:
    await sign_up_patient(accounts)
    await fail_sign_ins(accounts, 4)

    result = await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)

    assert result.account.failed_login_count == 0


async def test_a_malformed_address_is_refused_before_anything_is_counted(
    accounts: UserAccountRepository,
) -> None:
    created = await sign_up_patient(accounts)

    with pytest.raises(ValidationError) as raised:
        await accounts.authenticate_user(
            PATIENT_EMAIL, WRONG_PASSWORD, ip_address="198.51.100.999"
        )

    assert raised.value.field == "ip_address"
    assert (await accounts.get(created.id)).failed_login_count == 0


async def test_a_password_of_a_megabyte_is_refused_before_it_is_hashed(
    accounts: UserAccountRepository,
) -> None:
    created = await sign_up_patient(accounts)

    with pytest.raises(ValidationError) as raised:
        await accounts.authenticate_user(PATIENT_EMAIL, "x" * 1_000_000)

    assert (raised.value.field, raised.value.rule) == ("password", "max_length")
    assert (await accounts.get(created.id)).failed_login_count == 0


async def test_a_malformed_email_at_sign_in_is_a_validation_error(
    accounts: UserAccountRepository,
) -> None:
    with pytest.raises(ValidationError) as raised:
        await accounts.authenticate_user("jordan.avery", PATIENT_PASSWORD)

    assert (raised.value.field, raised.value.rule) == ("email", "email_format")


# ----------------------------------------------------------------- rehashing


async def test_a_hash_made_at_a_lower_cost_is_upgraded_at_sign_in(
    db: DatabaseManager, accounts: UserAccountRepository
) -> None:
    legacy = PasswordHasher(time_cost=1, memory_cost=8192).hash(PATIENT_PASSWORD)
    created = await accounts.create_user(
        PATIENT_USERNAME, PATIENT_EMAIL, password_hash=legacy, role="patient"
    )

    await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)

    raw = await stored_document(db, UserAccount, created.id)
    upgraded = extract_parameters(raw["password_hash"])
    assert (upgraded.time_cost, upgraded.memory_cost) == (2, 19_456)
    again = await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)
    assert again.user_id == created.id


async def test_raising_the_configured_cost_rehashes_at_the_next_sign_in(
    db: DatabaseManager, clock: ManualClock
) -> None:
    created = await sign_up_patient(account_repository(db, clock))
    db.settings = db.settings.model_copy(update={"password_time_cost": 3})

    await account_repository(db, clock).authenticate_user(
        PATIENT_EMAIL, PATIENT_PASSWORD
    )

    raw = await stored_document(db, UserAccount, created.id)
    assert extract_parameters(raw["password_hash"]).time_cost == 3


async def test_a_wrong_password_never_rehashes(
    db: DatabaseManager, accounts: UserAccountRepository
) -> None:
    legacy = PasswordHasher(time_cost=1, memory_cost=8192).hash(PATIENT_PASSWORD)
    created = await accounts.create_user(
        PATIENT_USERNAME, PATIENT_EMAIL, password_hash=legacy, role="patient"
    )

    await fail_sign_ins(accounts, 1)

    raw = await stored_document(db, UserAccount, created.id)
    assert raw["password_hash"] == legacy


# ---------------------------------------------------------- password change


async def test_a_password_change_ends_every_session_of_that_account_only(
    db: DatabaseManager, accounts: UserAccountRepository
) -> None:
    patient = await sign_up_patient(accounts)
    clinician = await accounts.create_user(
        CLINICIAN_USERNAME, CLINICIAN_EMAIL, password=CLINICIAN_PASSWORD,
        role="psychiatrist",
    )  # fmt: skip
    sessions = UserSessionRepository(db)
    for _ in range(2):
        await sessions.create_session(patient.id)
    await sessions.create_session(clinician.id)

    await accounts.change_password(patient.id, PATIENT_PASSWORD, NEW_PASSWORD)

    assert await sessions.active_sessions(patient.id) == []
    assert len(await sessions.active_sessions(clinician.id)) == 1
    ended = await sessions.find_by(user_id=patient.id)
    assert {s.revoked_reason for s in ended} == {SessionEndReason.PASSWORD_CHANGED}


async def test_after_a_password_change_only_the_new_password_signs_in(
    accounts: UserAccountRepository,
) -> None:
    patient = await sign_up_patient(accounts)

    await accounts.change_password(patient.id, PATIENT_PASSWORD, NEW_PASSWORD)

    with pytest.raises(AuthenticationError):
        await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)
    result = await accounts.authenticate_user(PATIENT_EMAIL, NEW_PASSWORD)
    assert result.user_id == patient.id


@pytest.mark.parametrize(
    ("new_password", "rule"),
    [("", "required"), ("jordan.avery-2026!", "contains_username")],
)
async def test_a_weak_new_password_is_refused_and_changes_nothing(
    db: DatabaseManager,
    accounts: UserAccountRepository,
    new_password: str,
    rule: str,
) -> None:
    patient = await sign_up_patient(accounts)
    before = await stored_document(db, UserAccount, patient.id)

    with pytest.raises(ValidationError) as raised:
        await accounts.change_password(patient.id, PATIENT_PASSWORD, new_password)

    assert raised.value.rule == rule
    assert await stored_document(db, UserAccount, patient.id) == before


async def test_a_wrong_current_password_counts_as_a_failed_attempt(
    accounts: UserAccountRepository,
) -> None:
    patient = await sign_up_patient(accounts)

    with pytest.raises(AuthenticationError):
        await accounts.change_password(patient.id, WRONG_PASSWORD, NEW_PASSWORD)

    stored = await accounts.get(patient.id)
    assert stored.failed_login_count == 1
    assert stored.password_hash == patient.password_hash


# ------------------------------------------------------------ administration


async def test_an_administrators_lock_refuses_sign_in_and_ends_sessions(
    db: DatabaseManager, accounts: UserAccountRepository
) -> None:
    patient = await sign_up_patient(accounts)
    sessions = UserSessionRepository(db)
    await sessions.create_session(patient.id)

    await accounts.lock_account(patient.id)

    assert await sessions.active_sessions(patient.id) == []
    with pytest.raises(AccountLockedError):
        await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)


async def test_unlocking_lets_the_right_password_in_at_once(
    accounts: UserAccountRepository,
) -> None:
    patient = await sign_up_patient(accounts)
    await fail_sign_ins(accounts, 5)

    await accounts.unlock_account(patient.id)

    result = await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)
    assert result.user_id == patient.id


async def test_a_lock_that_ends_in_the_past_is_refused(
    accounts: UserAccountRepository, clock: ManualClock
) -> None:
    patient = await sign_up_patient(accounts)

    with pytest.raises(ValidationError) as raised:
        await accounts.lock_account(patient.id, until=clock.advance(minutes=-1))

    assert (raised.value.field, raised.value.rule) == ("until", "in_future")


async def test_a_deactivated_account_cannot_sign_in_even_with_the_right_password(
    db: DatabaseManager, accounts: UserAccountRepository
) -> None:
    patient = await sign_up_patient(accounts)
    sessions = UserSessionRepository(db)
    await sessions.create_session(patient.id)

    await accounts.deactivate_user(patient.id)

    assert await sessions.active_sessions(patient.id) == []
    with pytest.raises(AuthenticationError) as raised:
        await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)
    assert type(raised.value) is AuthenticationError


# ------------------------------------------------------------------ lookups


async def test_an_account_is_found_by_its_email_in_any_case(
    accounts: UserAccountRepository,
) -> None:
    patient = await sign_up_patient(accounts)

    found = await accounts.find_by_email("  JORDAN.AVERY@EXAMPLE.ORG")

    assert found is not None
    assert found.user_id == patient.user_id


async def test_email_lookups_and_sign_in_work_on_the_encrypted_email(
    backend: str, mongodb_uri: str
) -> None:
    db = await open_encrypted_database(None if backend == "embedded" else mongodb_uri)
    try:
        accounts = UserAccountRepository(db)
        patient = await sign_up_patient(accounts)

        found = await accounts.find_by_email(PATIENT_EMAIL.upper())
        result = await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)

        raw = await stored_document(db, UserAccount, patient.id)
        assert (type(raw["email"]), raw["email"].subtype) == (Binary, 6)
        assert found is not None
        assert result.user_id == found.id == patient.id
    finally:
        await drop_and_close(db)


async def test_the_encrypted_email_stays_unique_whatever_its_case(
    backend: str, mongodb_uri: str
) -> None:
    db = await open_encrypted_database(None if backend == "embedded" else mongodb_uri)
    try:
        accounts = UserAccountRepository(db)
        await sign_up_patient(accounts)

        with pytest.raises(DuplicateError) as raised:
            await accounts.create_user(
                "jordan.a", PATIENT_EMAIL.upper(), password=NEW_PASSWORD, role="patient"
            )

        assert raised.value.key == ("email",)
    finally:
        await drop_and_close(db)


# -------------------------------------------------------------- no secrets


async def test_an_account_repr_shows_no_email_username_or_hash(
    accounts: UserAccountRepository,
) -> None:
    patient = await sign_up_patient(accounts)

    shown = repr(patient) + str(patient)

    for secret in (PATIENT_EMAIL, PATIENT_USERNAME, patient.password_hash, "argon2"):
        assert secret not in shown


async def test_account_operations_log_no_email_username_or_password(
    accounts: UserAccountRepository, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    patient = await sign_up_patient(accounts)
    await accounts.authenticate_user(PATIENT_EMAIL, PATIENT_PASSWORD)
    await fail_sign_ins(accounts, 4)
    with pytest.raises(AccountLockedError):
        await accounts.authenticate_user(PATIENT_EMAIL, WRONG_PASSWORD)
    await accounts.unlock_account(patient.id)
    await accounts.change_password(patient.id, PATIENT_PASSWORD, NEW_PASSWORD)

    logged = "\n".join(
        record.getMessage() + (record.exc_text or "") for record in caplog.records
    )
    assert patient.id in logged
    for secret in (PATIENT_EMAIL, PATIENT_USERNAME, PATIENT_PASSWORD, NEW_PASSWORD):
        assert secret not in logged


# ------------------------------------------------------------------ blocking


def test_the_seeds_calls_work_through_the_blocking_facade() -> None:
    with connect_sync(context=SYSTEM) as db:
        repo = create_user_account_repository(db)
        user = repo.create_user(
            username="john.doe",
            email="john@example.com",
            password="quiet-harbour-at-seven",
            role=UserRole.PATIENT,
        )

        authenticated = repo.authenticate_user(
            email="john@example.com", password="quiet-harbour-at-seven"
        )

    assert authenticated.user_id == user.user_id


@pytest.mark.parametrize("act", ["unlock_account", "deactivate_user", "lock_account"])
async def test_an_owner_cannot_lock_unlock_or_close_their_own_account(
    db: DatabaseManager, accounts: UserAccountRepository, act: str
) -> None:
    created = await sign_up_patient(accounts)
    owner = context_for_account(created)

    with acting_as(owner), pytest.raises(AccessDeniedError):
        await getattr(accounts, act)(created.user_id)

    stored = await accounts.get(created.user_id)
    assert stored.is_active
    assert stored.locked_until is None
    assert stored.revision == created.revision


async def test_an_owner_cannot_switch_their_account_back_on_through_a_patch(
    db: DatabaseManager, accounts: UserAccountRepository
) -> None:
    created = await sign_up_patient(accounts)
    await accounts.deactivate_user(created.user_id)
    db.policy = RolePolicy()  # the rule under test is the role policy's
    await db.policy.attach(db)

    with acting_as(context_for_account(created)), pytest.raises(AccessDeniedError):
        await accounts.patch(created.user_id, {"is_active": True})

    assert (await accounts.get(created.user_id)).is_active is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"locked_until": None, "failed_login_count": 0}, "locked_until"),
        ({"mfa_enabled": False, "totp_secret": None}, "totp_secret"),
        ({"password_hash": dummy_hash()}, "password_hash"),
        ({"mfa_enabled": True}, "mfa_enabled"),
    ],
    ids=["unlock", "mfa_off", "password", "mfa_on_unconfirmed"],
)
async def test_security_state_changes_only_through_the_methods_that_ask_for_proof(
    db: DatabaseManager,
    accounts: UserAccountRepository,
    changes: dict[str, Any],
    field: str,
) -> None:
    created = await sign_up_patient(accounts)
    await accounts.begin_mfa_enrollment(created.user_id)
    await accounts.lock_account(created.user_id)
    before = await stored_document(db, UserAccount, created.user_id)

    for role in ("owner", "system"):
        context = context_for_account(created) if role == "owner" else SYSTEM
        with acting_as(context), pytest.raises(ValidationError) as raised:
            await accounts.patch(created.user_id, changes)
        assert (raised.value.field, raised.value.rule) == (field, "managed_field")

    assert await stored_document(db, UserAccount, created.user_id) == before


async def test_an_account_is_closed_only_by_deactivation_which_ends_its_sessions(
    accounts: UserAccountRepository,
) -> None:
    created = await sign_up_patient(accounts)
    sessions = UserSessionRepository(accounts.db)
    _, token = await sessions.create_session(created.user_id)

    with pytest.raises(ValidationError) as raised:
        await accounts.patch(created.user_id, {"is_active": False})
    assert (await sessions.validate_session(token)).user_id == created.user_id

    await accounts.deactivate_user(created.user_id)
    reopened = await accounts.patch(created.user_id, {"is_active": True})

    assert (raised.value.field, raised.value.rule) == ("is_active", "managed_field")
    assert reopened.is_active
    assert await sessions.active_sessions(created.user_id) == []


async def test_an_owner_may_still_rename_their_account(
    accounts: UserAccountRepository,
) -> None:
    created = await sign_up_patient(accounts)

    with acting_as(context_for_account(created)):
        mine = await accounts.get(created.user_id)
        renamed = await accounts.update(
            mine.model_copy(update={"username": "j.rivera"})
        )

    assert renamed.username == "j.rivera"


async def test_an_administrator_unlocks_an_account(
    db: DatabaseManager, accounts: UserAccountRepository
) -> None:
    created = await sign_up_patient(accounts)
    await accounts.lock_account(created.user_id)
    admin = AccessContext(actor_id="admin_007", role=UserRole.ADMIN)

    with acting_as(admin):
        unlocked = await accounts.unlock_account(created.user_id)

    assert unlocked.locked_until is None
