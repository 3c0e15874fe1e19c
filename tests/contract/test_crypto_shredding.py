"""Crypto-shredding, on both backends: erasing one patient's data key leaves the
ciphertext stored but unreadable by anyone, and every other patient readable."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import drop_and_close
from tests.support.encryption import (
    RecordingAuditor,
    cipher_of,
    data_key_id,
    is_ciphertext,
    key_names,
    open_encrypted_database,
    raw_document,
)
from wellness_repo import (
    AccessContext,
    AccessDeniedError,
    DatabaseManager,
    MoodEntry,
    QueryOptions,
    RepositoryError,
    UserRole,
    acting_as,
    create_mood_entry_repository,
)
from wellness_repo.errors import DataErasedError
from wellness_repo.security.key_management import erase_patient_data_key

ERASED = "patient_5120"
KEPT = "patient_5121"
ERASED_NOTE = "Told my therapist about the overdose in March"
KEPT_NOTE = "Good week, went back to choir practice"
THERAPIST = AccessContext(actor_id="therapist_456", role=UserRole.THERAPIST)
ADMIN = AccessContext(actor_id="admin_007", role=UserRole.ADMIN)


@pytest.fixture
async def encrypted_db(
    backend: str, mongodb_uri: str
) -> AsyncIterator[DatabaseManager]:
    db = await open_encrypted_database(None if backend == "embedded" else mongodb_uri)
    try:
        yield db
    finally:
        await drop_and_close(db)


async def entry_of(db: DatabaseManager, patient: str, note: str) -> MoodEntry:
    return await create_mood_entry_repository(db).create(
        MoodEntry(user_id=patient, mood_rating=4, notes=note)
    )


async def test_an_erased_patients_entry_cannot_be_read(
    encrypted_db: DatabaseManager,
) -> None:
    entry = await entry_of(encrypted_db, ERASED, ERASED_NOTE)

    await erase_patient_data_key(encrypted_db, ERASED)

    with pytest.raises(DataErasedError) as erased:
        await create_mood_entry_repository(encrypted_db).get(entry.id)
    assert erased.value.entity == "MoodEntry"
    assert erased.value.entity_id == entry.id
    assert ERASED_NOTE not in str(erased.value)


async def test_other_patients_stay_readable_after_an_erasure(
    encrypted_db: DatabaseManager,
) -> None:
    await entry_of(encrypted_db, ERASED, ERASED_NOTE)
    kept = await entry_of(encrypted_db, KEPT, KEPT_NOTE)

    await erase_patient_data_key(encrypted_db, ERASED)

    found = await create_mood_entry_repository(encrypted_db).get(kept.id)
    assert found.notes == KEPT_NOTE


async def test_a_page_holding_an_erased_record_raises_naming_it(
    encrypted_db: DatabaseManager,
) -> None:
    await entry_of(encrypted_db, KEPT, KEPT_NOTE)
    erased_entry = await entry_of(encrypted_db, ERASED, ERASED_NOTE)
    await erase_patient_data_key(encrypted_db, ERASED)

    with pytest.raises(DataErasedError) as erased:
        await create_mood_entry_repository(encrypted_db).list_all(QueryOptions())

    assert erased.value.entity_id == erased_entry.id


async def test_the_ciphertext_stays_stored_after_an_erasure(
    encrypted_db: DatabaseManager,
) -> None:
    entry = await entry_of(encrypted_db, ERASED, ERASED_NOTE)
    before = await raw_document(encrypted_db, MoodEntry, entry.id)

    await erase_patient_data_key(encrypted_db, ERASED)

    after = await raw_document(encrypted_db, MoodEntry, entry.id)
    assert is_ciphertext(after["notes"])
    assert after["notes"] == before["notes"]


async def test_the_erased_key_is_gone_from_the_vault(
    encrypted_db: DatabaseManager,
) -> None:
    await entry_of(encrypted_db, ERASED, ERASED_NOTE)
    await entry_of(encrypted_db, KEPT, KEPT_NOTE)

    await erase_patient_data_key(encrypted_db, ERASED)

    names = await key_names(encrypted_db)
    assert f"patient:{ERASED}" not in names
    assert f"patient:{KEPT}" in names


async def test_the_vault_itself_cannot_decrypt_an_erased_value(
    encrypted_db: DatabaseManager,
) -> None:
    entry = await entry_of(encrypted_db, ERASED, ERASED_NOTE)
    stored = await raw_document(encrypted_db, MoodEntry, entry.id)
    await erase_patient_data_key(encrypted_db, ERASED)
    vault = await cipher_of(encrypted_db).open_vault({})

    try:
        with pytest.raises(RepositoryError):
            await vault.decrypt_many([stored["notes"]])
    finally:
        await vault.close()


async def test_erasing_a_patient_without_a_key_reports_false(
    encrypted_db: DatabaseManager,
) -> None:
    erased = await erase_patient_data_key(encrypted_db, "patient_never_seen")

    assert erased is False


async def test_new_records_after_an_erasure_get_a_fresh_readable_key(
    encrypted_db: DatabaseManager,
) -> None:
    old = await entry_of(encrypted_db, ERASED, ERASED_NOTE)
    await erase_patient_data_key(encrypted_db, ERASED)

    new = await entry_of(encrypted_db, ERASED, KEPT_NOTE)

    found = await create_mood_entry_repository(encrypted_db).get(new.id)
    stored_old = await raw_document(encrypted_db, MoodEntry, old.id)
    stored_new = await raw_document(encrypted_db, MoodEntry, new.id)
    assert found.notes == KEPT_NOTE
    assert data_key_id(stored_new["notes"]) != data_key_id(stored_old["notes"])


async def test_an_administrator_may_erase_a_patients_key(
    encrypted_db: DatabaseManager,
) -> None:
    await entry_of(encrypted_db, ERASED, ERASED_NOTE)

    with acting_as(ADMIN):
        erased = await erase_patient_data_key(encrypted_db, ERASED)

    assert erased is True


async def test_a_clinician_may_not_erase_a_patients_key(
    encrypted_db: DatabaseManager,
) -> None:
    await entry_of(encrypted_db, ERASED, ERASED_NOTE)

    with acting_as(THERAPIST), pytest.raises(AccessDeniedError):
        await erase_patient_data_key(encrypted_db, ERASED)

    assert f"patient:{ERASED}" in await key_names(encrypted_db)


async def test_an_erasure_is_audited_with_the_patient(
    encrypted_db: DatabaseManager,
) -> None:
    auditor = RecordingAuditor()
    encrypted_db.auditor = auditor
    await entry_of(encrypted_db, ERASED, ERASED_NOTE)

    await erase_patient_data_key(encrypted_db, ERASED)

    erasures = [event for event in auditor.events if event.entity == "DataKey"]
    assert [(e.operation.value, e.outcome, e.patient_ids) for e in erasures] == [
        ("delete", "ok", (ERASED,))
    ]


async def test_a_refused_erasure_is_audited_as_denied(
    encrypted_db: DatabaseManager,
) -> None:
    auditor = RecordingAuditor()
    encrypted_db.auditor = auditor

    with acting_as(THERAPIST), pytest.raises(AccessDeniedError):
        await erase_patient_data_key(encrypted_db, ERASED)

    assert [(e.entity, e.outcome) for e in auditor.events] == [("DataKey", "denied")]
