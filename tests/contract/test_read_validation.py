"""Reading stored records back through the read validators, on both backends:
every kind of record the seeder writes reads exactly as its full validation
would build it, and a stored document that breaks its model is still refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.mood_data import PATIENT
from wellness_repo import DatabaseManager, MoodEntry, RepositoryError
from wellness_repo.models.read_validation import read_validator
from wellness_repo.models.registry import DOCUMENT_MODELS
from wellness_repo.repositories.engagement import MoodEntryRepository
from wellness_repo.seeding import seed_fixtures


async def test_every_seeded_record_reads_as_its_full_validation(
    db: DatabaseManager,
) -> None:
    await seed_fixtures(db, patients=6, seed=17, history_days=14)
    read_kinds = set()

    for model in DOCUMENT_MODELS:
        stored = await db.collection(model).find({}).to_list(None)
        plain = await db.cipher.decrypt_documents(model, stored)
        reader = read_validator(model)
        for document in plain:
            assert document.pop("_version") == model.SCHEMA_VERSION
            full = model.model_validate(dict(document))
            read = reader.validate_python(dict(document))
            assert type(read) is model
            assert read.model_dump() == full.model_dump()
            assert read.model_fields_set == full.model_fields_set
            read_kinds.add(model.__name__)

    assert {"MoodEntry", "TherapySession", "Appointment", "Medication"} <= read_kinds
    assert len(read_kinds) >= 12


def _entry_document(**changes: Any) -> dict[str, Any]:
    document = MoodEntry(user_id=PATIENT, mood_rating=6).model_dump(by_alias=True)
    document.update({"_version": MoodEntry.SCHEMA_VERSION, "_rev": 1, **changes})
    return document


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mood_rating", 11),
        ("mood_rating", "six"),
        ("mood_scale", "one_to_hundred"),
        ("created_at", "2026-11-30T09:00:00"),
        ("tags", "sleep"),
        ("unexpected", True),
    ],
)
async def test_a_stored_entry_that_breaks_its_model_is_refused_on_read(
    db: DatabaseManager, field: str, value: Any
) -> None:
    document = _entry_document(**{field: value})
    await db.collection(MoodEntry).insert_one(document)

    with pytest.raises(RepositoryError) as refused:
        await MoodEntryRepository(db).get(document["_id"])

    assert refused.value.entity_id == document["_id"]
    assert field in refused.value.message
