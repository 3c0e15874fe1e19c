"""Rule 4: nothing a patient wrote, nor their name, reaches a log line, even at
DEBUG and even when an operation fails."""

from __future__ import annotations

import logging

import pytest

from wellness_repo import (
    AccessContext,
    DatabaseManager,
    DuplicateError,
    MoodEntry,
    QueryOptions,
    UserRole,
    ValidationError,
    create_mood_entry_repository,
)

NOTE = "Jordan Avery told me she stopped taking sertraline on Tuesday"
PATIENT = "patient_4417"
SECRET_TAG = "after-the-funeral"


async def test_repository_operations_log_no_patient_words(
    db: DatabaseManager, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    repo = create_mood_entry_repository(db)

    entry = await repo.create(
        MoodEntry(user_id=PATIENT, mood_rating=3, notes=NOTE, tags=[SECRET_TAG])
    )
    await repo.patch(entry.id, {"notes": NOTE + " again"})
    await repo.list_all(QueryOptions(filters={"tags__contains": SECRET_TAG}))
    await repo.count(user_id=PATIENT, notes__isnull=False)
    with pytest.raises(DuplicateError):
        await repo.create(
            MoodEntry(id=entry.id, user_id=PATIENT, mood_rating=3, notes=NOTE)
        )
    with pytest.raises(ValidationError):
        await repo.list_all(QueryOptions(filters={"mood_rating__gte": NOTE}))
    await repo.delete(entry.id)

    logged = "\n".join(
        record.getMessage() + (record.exc_text or "") for record in caplog.records
    )
    assert caplog.records, "the operations should have logged something"
    for secret in (NOTE, "Jordan", "sertraline", SECRET_TAG):
        assert secret not in logged


async def test_errors_do_not_repeat_the_values_that_caused_them(
    db: DatabaseManager,
) -> None:
    repo = create_mood_entry_repository(db)
    entry = await repo.create(MoodEntry(user_id=PATIENT, mood_rating=3, notes=NOTE))

    with pytest.raises(DuplicateError) as duplicate:
        await repo.create(MoodEntry(id=entry.id, user_id=PATIENT, mood_rating=3))
    with pytest.raises(ValidationError) as invalid:
        await repo.list_all(QueryOptions(filters={"mood_rating__gte": NOTE}))

    for error in (duplicate.value, invalid.value):
        assert NOTE not in str(error)
        assert PATIENT not in str(error)
        assert error.__cause__ is None


def test_an_actor_id_that_is_not_an_id_is_refused_without_repeating_it() -> None:
    with pytest.raises(ValidationError) as refused:
        AccessContext(actor_id="jordan.avery@example.com", role=UserRole.PATIENT)

    assert (refused.value.field, refused.value.rule) == ("actor_id", "format")
    assert "jordan" not in str(refused.value)
