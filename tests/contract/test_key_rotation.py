"""Key rotation, on both backends: rewrapping changes how every data key is
wrapped, never the data, and records stay readable; replacing the local master
key leaves the old one useless."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import drop_and_close
from tests.support.clinical_data import depression_plan
from tests.support.encryption import (
    NEW_MASTER_KEY,
    cipher_of,
    key_vault,
    open_encrypted_database,
    raw_document,
)
from wellness_repo import (
    AccessContext,
    AccessDeniedError,
    DatabaseManager,
    MoodEntry,
    RepositoryError,
    UserRole,
    ValidationError,
    acting_as,
    create_mood_entry_repository,
    create_treatment_plan_repository,
)
from wellness_repo.security.key_management import (
    replace_local_master_key,
    rewrap_data_keys,
)
from wellness_repo.security.master_keys import local_kms_providers

NOTE = "Nightmares are back since the anniversary"
NURSE = AccessContext(actor_id="nurse_311", role=UserRole.NURSE)


@pytest.fixture
async def encrypted_db(
    backend: str, mongodb_uri: str
) -> AsyncIterator[DatabaseManager]:
    db = await open_encrypted_database(None if backend == "embedded" else mongodb_uri)
    try:
        yield db
    finally:
        await drop_and_close(db)


async def some_records(db: DatabaseManager) -> tuple[MoodEntry, str]:
    """A patient's mood entry and treatment plan: two data keys, the patient's
    and the one for diagnosis-code lookups."""
    entry = await create_mood_entry_repository(db).create(
        MoodEntry(user_id="patient_123", mood_rating=2, notes=NOTE)
    )
    plan = await create_treatment_plan_repository(db).create(depression_plan())
    return entry, plan.id


async def wrappings(db: DatabaseManager) -> dict[bytes, Any]:
    keys = await key_vault(db).find({}).to_list(None)
    return {bytes(key["_id"]): bytes(key["keyMaterial"]) for key in keys}


async def test_rewrapping_rewraps_every_data_key(
    encrypted_db: DatabaseManager,
) -> None:
    await some_records(encrypted_db)
    before = await wrappings(encrypted_db)

    count = await rewrap_data_keys(encrypted_db)

    after = await wrappings(encrypted_db)
    assert count == len(before) == 2
    assert after.keys() == before.keys()
    assert all(after[key_id] != before[key_id] for key_id in before)


async def test_records_stay_readable_after_rewrapping(
    encrypted_db: DatabaseManager,
) -> None:
    entry, plan_id = await some_records(encrypted_db)
    stored_before = await raw_document(encrypted_db, MoodEntry, entry.id)

    await rewrap_data_keys(encrypted_db)

    stored_after = await raw_document(encrypted_db, MoodEntry, entry.id)
    found = await create_mood_entry_repository(encrypted_db).get(entry.id)
    plan = await create_treatment_plan_repository(encrypted_db).get(plan_id)
    assert stored_after["notes"] == stored_before["notes"]
    assert found.notes == NOTE
    assert plan.primary_diagnosis_code == "F32.1"


async def test_rewrapping_to_an_unconfigured_provider_is_refused(
    encrypted_db: DatabaseManager,
) -> None:
    await some_records(encrypted_db)

    with pytest.raises(ValidationError) as refused:
        await rewrap_data_keys(encrypted_db, provider="aws")

    assert refused.value.rule == "configured_provider"


async def test_replacing_the_master_key_rewraps_every_key_under_the_new_one(
    encrypted_db: DatabaseManager,
) -> None:
    await some_records(encrypted_db)

    count = await replace_local_master_key(encrypted_db, NEW_MASTER_KEY)

    keys = await key_vault(encrypted_db).find({}).to_list(None)
    assert count == 2
    assert {key["masterKey"]["provider"] for key in keys} == {"local"}


async def test_records_stay_readable_after_replacing_the_master_key(
    encrypted_db: DatabaseManager,
) -> None:
    entry, _ = await some_records(encrypted_db)

    await replace_local_master_key(encrypted_db, NEW_MASTER_KEY)

    found = await create_mood_entry_repository(encrypted_db).get(entry.id)
    assert found.notes == NOTE


async def test_new_records_after_replacing_the_master_key_are_readable(
    encrypted_db: DatabaseManager,
) -> None:
    await replace_local_master_key(encrypted_db, NEW_MASTER_KEY)

    entry, _ = await some_records(encrypted_db)

    found = await create_mood_entry_repository(encrypted_db).get(entry.id)
    assert found.notes == NOTE


async def test_the_old_master_key_no_longer_opens_the_data_keys(
    encrypted_db: DatabaseManager,
) -> None:
    entry, _ = await some_records(encrypted_db)
    stored = await raw_document(encrypted_db, MoodEntry, entry.id)
    old = local_kms_providers(encrypted_db.settings)

    await replace_local_master_key(encrypted_db, NEW_MASTER_KEY)

    vault = await cipher_of(encrypted_db).open_vault(old)
    try:
        with pytest.raises(RepositoryError):
            await vault.decrypt_many([stored["notes"]])
    finally:
        await vault.close()


async def test_only_administrators_and_system_may_rotate_keys(
    encrypted_db: DatabaseManager,
) -> None:
    await some_records(encrypted_db)
    before = await wrappings(encrypted_db)

    with acting_as(NURSE), pytest.raises(AccessDeniedError):
        await rewrap_data_keys(encrypted_db)

    assert await wrappings(encrypted_db) == before
