"""Mood entries on their scales: what is stored, what is refused, and how entries
written by schema version 1 keep loading.

Runs on both backends. Records of the older schema are written with the raw
collection, the way the earlier release left them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import SYSTEM
from tests.support.mood_data import PATIENT, SEED_NOTE, seed_mood_entry
from wellness_repo import (
    BaseRepository,
    DatabaseManager,
    EmotionalState,
    MoodEntry,
    MoodEntryRepository,
    MoodScale,
    MoodTrends,
    MoodType,
    QueryOptions,
    SyncDatabaseManager,
    ValidationError,
    connect_sync,
    create_mood_entry_repository,
)

WRITTEN_AT = datetime(2024, 2, 6, 8, 45, tzinfo=UTC)


@pytest.fixture
def moods(db: DatabaseManager) -> MoodEntryRepository:
    return create_mood_entry_repository(db)


@pytest.fixture
def sync_db(backend: str, mongodb_uri: str) -> Iterator[SyncDatabaseManager]:
    manager = connect_sync(
        None if backend == "embedded" else mongodb_uri,
        f"test_{uuid.uuid4().hex[:16]}",
        context=SYSTEM,
    )
    try:
        yield manager
    finally:
        name = manager.manager.database_name
        manager.run(lambda: manager.manager.client.drop_database(name))
        manager.close()


def unchecked_entry(**changes: Any) -> MoodEntry:
    """An entry built without validation, as a buggy caller could build one."""
    values = dict(seed_mood_entry())
    values.update(changes)
    entry: MoodEntry = MoodEntry.model_construct(**values)
    return entry


def version_one_document(**changes: Any) -> dict[str, Any]:
    """A mood entry as schema version 1 stored it."""
    document: dict[str, Any] = {
        "_id": "mood_v1_0042",
        "_rev": 3,
        "_version": 1,
        "created_at": WRITTEN_AT,
        "updated_at": None,
        "deleted_at": None,
        "deleted_by": None,
        "user_id": PATIENT,
        "mood_rating": 4,
        "tags": ["sleep"],
        "notes": SEED_NOTE,
    }
    document.update(changes)
    return document


async def stored(db: DatabaseManager, entry_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = await db.collection(MoodEntry).find_one(
        {"_id": entry_id}
    )
    return found


async def test_the_platform_example_entry_reads_back_as_logged(
    moods: MoodEntryRepository,
) -> None:
    entry = seed_mood_entry()

    created = await moods.create(entry)

    found = await moods.get(created.entry_id)
    assert found == created
    assert (found.mood_scale, found.mood_rating, found.mood_type) == (
        MoodScale.ONE_TO_TEN,
        7,
        MoodType.GENERAL,
    )
    assert found.contributing_factors == ["Good sleep", "Exercise"]
    assert found.triggers == ["Work stress"]
    assert found.notes == SEED_NOTE


@pytest.mark.parametrize(
    ("scale", "rating", "normalized"),
    [
        (MoodScale.ONE_TO_TEN, 7, 6 / 9),
        (MoodScale.ONE_TO_TEN, 1, 0.0),
        (MoodScale.ONE_TO_FIVE, 3, 0.5),
        (MoodScale.ONE_TO_FIVE, 5, 1.0),
        (MoodScale.EMOTIONAL_STATE, EmotionalState.CALM, 4 / 6),
    ],
)
async def test_the_normalised_rating_is_stored_beside_the_raw_rating(
    db: DatabaseManager,
    moods: MoodEntryRepository,
    scale: MoodScale,
    rating: int,
    normalized: float,
) -> None:
    entry = seed_mood_entry(mood_scale=scale, mood_rating=rating)

    await moods.create(entry)

    document = await stored(db, entry.id)
    assert document is not None
    assert document["mood_rating"] == int(rating)
    assert document["normalized_rating"] == pytest.approx(normalized)


def test_a_normalised_rating_handed_in_is_replaced_by_the_computed_one() -> None:
    entry = seed_mood_entry(mood_rating=10, normalized_rating=0.1)

    assert entry.normalized_rating == 1.0


def test_an_emotional_state_is_kept_as_its_number_on_the_scale() -> None:
    entry = seed_mood_entry(
        mood_scale=MoodScale.EMOTIONAL_STATE, mood_rating=EmotionalState.SAD
    )

    assert (type(entry.mood_rating), entry.mood_rating) == (int, 2)
    assert entry.emotional_state is EmotionalState.SAD


def test_a_factor_listed_twice_is_kept_once() -> None:
    entry = seed_mood_entry(contributing_factors=["Exercise", " Exercise", "Yoga"])

    assert entry.contributing_factors == ["Exercise", "Yoga"]


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        (
            {"mood_scale": MoodScale.ONE_TO_FIVE, "mood_rating": 7},
            "mood_rating",
            "mood_scale_range",
        ),
        (
            {"mood_scale": MoodScale.EMOTIONAL_STATE, "mood_rating": 8},
            "mood_rating",
            "mood_scale_range",
        ),
        (
            {"mood_scale": MoodScale.EMOTIONAL_STATE, "mood_rating": "elated"},
            "mood_rating",
            "int_parsing",
        ),
        ({"mood_rating": 0}, "mood_rating", "greater_than_equal"),
        ({"mood_scale": "one_to_hundred"}, "mood_scale", "enum"),
        ({"mood_type": "euphoria"}, "mood_type", "enum"),
        (
            {"contributing_factors": [f"Factor {n}" for n in range(21)]},
            "contributing_factors",
            "too_long",
        ),
        ({"triggers": [f"Trigger {n}" for n in range(21)]}, "triggers", "too_long"),
        ({"triggers": ["x" * 65]}, "triggers.0", "string_too_long"),
        ({"energy_level": 11}, "energy_level", "less_than_equal"),
        ({"anxiety_level": 0}, "anxiety_level", "greater_than_equal"),
        (
            {"created_at": datetime(2026, 3, 18, 20, 30)},
            "created_at",
            "timezone_required",
        ),
    ],
)
async def test_bad_entries_are_refused_by_field_and_rule_and_nothing_is_written(
    db: DatabaseManager,
    moods: MoodEntryRepository,
    changes: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    entry = unchecked_entry(**changes)

    with pytest.raises(ValidationError) as raised:
        await moods.create(entry)

    assert (raised.value.field, raised.value.rule) == (field, rule)
    assert await db.collection(MoodEntry).count_documents({}) == 0


async def test_changing_the_scale_recomputes_the_normalised_rating(
    moods: MoodEntryRepository,
) -> None:
    entry = await moods.create(seed_mood_entry())

    changed = await moods.patch(
        entry.id, {"mood_scale": MoodScale.ONE_TO_FIVE, "mood_rating": 4}
    )

    assert changed.normalized_rating == 0.75


async def test_a_patch_leaving_the_rating_outside_its_new_scale_changes_nothing(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    entry = await moods.create(seed_mood_entry(mood_rating=9))

    with pytest.raises(ValidationError) as raised:
        await moods.patch(entry.id, {"mood_scale": MoodScale.ONE_TO_FIVE})

    assert (raised.value.field, raised.value.rule) == (
        "mood_rating",
        "mood_scale_range",
    )
    document = await stored(db, entry.id)
    assert document is not None
    assert (document["mood_scale"], document["_rev"]) == ("one_to_ten", 1)


async def test_entries_on_different_scales_are_found_by_normalised_rating(
    moods: MoodEntryRepository,
) -> None:
    await moods.create_many(
        [
            seed_mood_entry(mood_rating=8),
            seed_mood_entry(mood_scale=MoodScale.ONE_TO_FIVE, mood_rating=2),
            seed_mood_entry(
                mood_scale=MoodScale.EMOTIONAL_STATE, mood_rating=EmotionalState.JOYFUL
            ),
        ]
    )

    good_days = await moods.list_all(
        QueryOptions(
            filters={"user_id": PATIENT, "normalized_rating__gte": 0.5},
            order_by=["normalized_rating"],
        )
    )

    assert [(e.mood_scale, e.mood_rating) for e in good_days.items] == [
        (MoodScale.ONE_TO_TEN, 8),
        (MoodScale.EMOTIONAL_STATE, 7),
    ]


async def test_a_version_one_entry_loads_as_a_general_one_to_ten_check_in(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    await db.collection(MoodEntry).insert_one(version_one_document())

    entry = await moods.get("mood_v1_0042")

    assert (entry.mood_scale, entry.mood_type, entry.mood_rating) == (
        MoodScale.ONE_TO_TEN,
        MoodType.GENERAL,
        4,
    )
    assert entry.normalized_rating == pytest.approx(3 / 9)
    assert (entry.contributing_factors, entry.triggers) == ([], [])
    assert (entry.tags, entry.notes, entry.created_at) == (
        ["sleep"],
        SEED_NOTE,
        WRITTEN_AT,
    )


async def test_migrating_an_entry_validates_it_in_full_as_reading_it_does(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    # Older software stored this time as ISO text; a read of the old entry
    # parses it, and so must the migration that rewrites it.
    edited = "2024-01-03T10:00:00Z"
    await db.collection(MoodEntry).insert_one(version_one_document(updated_at=edited))
    read = await moods.get("mood_v1_0042")

    upgraded = await moods.migrate_stored()

    document = await stored(db, "mood_v1_0042")
    assert upgraded == 1
    assert document is not None
    assert (
        document["updated_at"]
        == read.updated_at
        == datetime(2024, 1, 3, 10, tzinfo=UTC)
    )


async def test_migrating_stored_entries_writes_the_version_two_fields(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    await db.collection(MoodEntry).insert_one(version_one_document())

    upgraded = await moods.migrate_stored()

    document = await stored(db, "mood_v1_0042")
    assert upgraded == 1
    assert document is not None
    assert (document["_version"], document["_rev"]) == (2, 4)
    assert (document["mood_scale"], document["mood_type"]) == ("one_to_ten", "general")
    assert document["normalized_rating"] == pytest.approx(3 / 9)


def test_the_platform_example_runs_as_written_through_the_blocking_facade(
    sync_db: SyncDatabaseManager,
) -> None:
    repo: BaseRepository[MoodEntry] = create_mood_entry_repository(sync_db)
    mood_entry = MoodEntry(
        user_id="patient_123",
        mood_scale=MoodScale.ONE_TO_TEN,
        mood_rating=7,
        mood_type=MoodType.GENERAL,
        contributing_factors=["Good sleep", "Exercise"],
        triggers=["Work stress"],
        notes="Feeling more balanced today",
    )

    mood = repo.create(mood_entry)
    trends = repo.analyze_mood_trends(user_id="patient_123", days_back=30)

    assert isinstance(trends, MoodTrends)
    assert (trends.entries, trends.daily[-1].average) == (1, mood.normalized_rating)
