"""Bad input: every public entry point refuses it with a ``ValidationError`` naming
the field and the rule, and nothing is written. Errors never carry field values:
their messages end up in logs, and values are PHI.

What was written is checked with the raw collection, not through the repository.
"""

from __future__ import annotations

import traceback
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from tests.support.models import CarePlanRecord
from wellness_repo import (
    AccessContext,
    AsyncBaseRepository,
    DatabaseManager,
    DuplicateError,
    MoodEntry,
    MoodEntryRepository,
    PurposeOfUse,
    QueryOptions,
    UserRole,
    ValidationError,
    create_mood_entry_repository,
)

DISCLOSURE = "Disclosed passive suicidal ideation after a fight with sister Margaret"
PATIENT = "patient_margaret_okafor_1961"
SHORT_DISCLOSURE = "overdose plan, Margaret"


@pytest.fixture
def moods(db: DatabaseManager) -> MoodEntryRepository:
    return create_mood_entry_repository(db)


@pytest.fixture
def plans(db: DatabaseManager) -> AsyncBaseRepository[CarePlanRecord]:
    return AsyncBaseRepository(db, model=CarePlanRecord)


@pytest.fixture
async def stored_entry(moods: MoodEntryRepository) -> MoodEntry:
    return await moods.create(mood_entry())


def mood_entry(**changes: Any) -> MoodEntry:
    """A valid morning mood check-in."""
    values: dict[str, Any] = {
        "user_id": "patient_123",
        "mood_rating": 4,
        "tags": ["insomnia", "work stress"],
        "notes": "Woke at 4am, racing thoughts about the deadline",
    }
    values.update(changes)
    return MoodEntry(**values)


def unchecked_mood_entry(**changes: Any) -> MoodEntry:
    """A mood entry built without validation, as a buggy caller could build one."""
    values = mood_entry().model_dump()
    values.update(changes)
    entry: MoodEntry = MoodEntry.model_construct(**values)
    return entry


async def stored_count(db: DatabaseManager, model: type[Any] = MoodEntry) -> int:
    return int(await db.collection(model).count_documents({}))


async def stored_document(db: DatabaseManager, record_id: str) -> dict[str, Any]:
    document = await db.collection(MoodEntry).find_one({"_id": record_id})
    assert document is not None
    return dict(document)


# ------------------------------------------------------- create and update


async def test_create_refuses_a_rating_out_of_range(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    entry = unchecked_mood_entry(mood_rating=11)

    with pytest.raises(ValidationError) as raised:
        await moods.create(entry)

    assert (raised.value.field, raised.value.rule) == ("mood_rating", "less_than_equal")
    assert await stored_count(db) == 0


async def test_create_refuses_a_tag_list_mutated_to_hold_a_number(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    entry = mood_entry()
    entry.tags.append(123)  # type: ignore[arg-type]

    with pytest.raises(ValidationError) as raised:
        await moods.create(entry)

    assert (raised.value.field, raised.value.rule) == ("tags.2", "string_type")
    assert await stored_count(db) == 0


async def test_create_refuses_a_tag_list_grown_past_its_limit(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    entry = mood_entry()
    entry.tags.extend(f"trigger {n}" for n in range(60))

    with pytest.raises(ValidationError) as raised:
        await moods.create(entry)

    assert (raised.value.field, raised.value.rule) == ("tags", "too_long")
    assert await stored_count(db) == 0


async def test_create_refuses_a_naive_datetime(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    entry = unchecked_mood_entry(created_at=datetime(2024, 5, 14, 7, 30))

    with pytest.raises(ValidationError) as raised:
        await moods.create(entry)

    assert raised.value.field == "created_at"
    assert raised.value.rule == "timezone_required"
    assert await stored_count(db) == 0


@pytest.mark.parametrize(
    "wrong",
    [
        CarePlanRecord(patient_id="patient_123", title="Exposure therapy"),
        {"user_id": "patient_123", "mood_rating": 4},
        None,
    ],
    ids=["another_entity", "plain_dict", "none"],
)
async def test_create_refuses_anything_but_its_own_entity(
    db: DatabaseManager, moods: MoodEntryRepository, wrong: Any
) -> None:
    with pytest.raises(ValidationError) as raised:
        await moods.create(wrong)

    assert (raised.value.field, raised.value.rule) == ("entity", "type")
    assert await stored_count(db) == 0
    assert await stored_count(db, CarePlanRecord) == 0


async def test_create_refuses_an_entry_already_marked_deleted(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    entry = mood_entry(deleted_at=datetime.now(UTC), deleted_by="therapist_456")

    with pytest.raises(ValidationError) as raised:
        await moods.create(entry)

    assert (raised.value.field, raised.value.rule) == ("deleted_at", "managed_field")
    assert await stored_count(db) == 0


async def test_create_refuses_an_operator_smuggled_in_as_the_id(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    entry = unchecked_mood_entry(id={"$ne": None})

    with pytest.raises(ValidationError) as raised:
        await moods.create(entry)

    assert raised.value.field in ("id", "_id")
    assert raised.value.rule == "string_type"
    assert await stored_count(db) == 0


async def test_update_refuses_an_entry_mutated_into_an_invalid_one(
    db: DatabaseManager, moods: MoodEntryRepository, stored_entry: MoodEntry
) -> None:
    before = await stored_document(db, stored_entry.id)
    stored_entry.tags.append("")

    with pytest.raises(ValidationError) as raised:
        await moods.update(stored_entry)

    assert (raised.value.field, raised.value.rule) == ("tags.2", "string_too_short")
    assert await stored_document(db, stored_entry.id) == before


async def test_update_refuses_to_mark_an_entry_deleted(
    db: DatabaseManager, moods: MoodEntryRepository, stored_entry: MoodEntry
) -> None:
    before = await stored_document(db, stored_entry.id)
    stored_entry.deleted_at = datetime.now(UTC)

    with pytest.raises(ValidationError) as raised:
        await moods.update(stored_entry)

    assert (raised.value.field, raised.value.rule) == ("deleted_at", "managed_field")
    assert await stored_document(db, stored_entry.id) == before


async def test_create_many_with_one_invalid_entry_writes_none_of_them(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    batch = [mood_entry(), unchecked_mood_entry(mood_rating=0), mood_entry()]

    with pytest.raises(ValidationError) as raised:
        await moods.create_many(batch)

    assert (raised.value.field, raised.value.rule) == (
        "mood_rating",
        "greater_than_equal",
    )
    assert await stored_count(db) == 0


@pytest.mark.parametrize(
    "intruder",
    [
        CarePlanRecord(patient_id="patient_123", title="Exposure therapy"),
        MoodEntry(user_id="patient_123", mood_rating=4, deleted_at=datetime.now(UTC)),
    ],
    ids=["another_entity", "marked_deleted"],
)
async def test_create_many_with_one_refused_record_writes_none_of_them(
    db: DatabaseManager, moods: MoodEntryRepository, intruder: Any
) -> None:
    batch = [mood_entry(), mood_entry(), intruder]

    with pytest.raises(ValidationError):
        await moods.create_many(batch)

    assert await stored_count(db) == 0


# ------------------------------------------------------------------ ids

BAD_IDS = [{"$ne": None}, "", "e" * 65, "$where", 42, None]
BAD_ID_NAMES = ["operator", "empty", "over_long", "dollar", "number", "none"]


async def call_with_id(repository: MoodEntryRepository, call: str, bad: Any) -> Any:
    if call == "patch":
        return await repository.patch(bad, {"mood_rating": 5})
    return await getattr(repository, call)(bad)


@pytest.mark.parametrize("bad_id", BAD_IDS, ids=BAD_ID_NAMES)
@pytest.mark.parametrize("call", ["get_by_id", "get", "delete", "patch"])
async def test_every_id_taking_call_refuses_a_bad_id_and_changes_nothing(
    db: DatabaseManager,
    moods: MoodEntryRepository,
    stored_entry: MoodEntry,
    call: str,
    bad_id: Any,
) -> None:
    before = await stored_document(db, stored_entry.id)

    with pytest.raises(ValidationError) as raised:
        await call_with_id(moods, call, bad_id)

    assert raised.value.field == "id"
    assert raised.value.rule in ("type", "format")
    assert await stored_document(db, stored_entry.id) == before


# ------------------------------------------------------------------ patch


async def test_patch_refuses_an_unknown_field(
    db: DatabaseManager, moods: MoodEntryRepository, stored_entry: MoodEntry
) -> None:
    before = await stored_document(db, stored_entry.id)

    with pytest.raises(ValidationError) as raised:
        await moods.patch(stored_entry.id, {"mood_score": 5})

    assert (raised.value.field, raised.value.rule) == ("mood_score", "unknown_field")
    assert await stored_document(db, stored_entry.id) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "entry_2"),
        ("created_at", datetime(2020, 1, 1, tzinfo=UTC)),
        ("revision", 9),
        ("deleted_at", datetime(2020, 1, 1, tzinfo=UTC)),
        ("deleted_by", "therapist_456"),
    ],
)
async def test_patch_refuses_a_field_the_repository_manages(
    db: DatabaseManager,
    moods: MoodEntryRepository,
    stored_entry: MoodEntry,
    field: str,
    value: Any,
) -> None:
    before = await stored_document(db, stored_entry.id)

    with pytest.raises(ValidationError) as raised:
        await moods.patch(stored_entry.id, {field: value})

    assert (raised.value.field, raised.value.rule) == (field, "immutable")
    assert await stored_document(db, stored_entry.id) == before


async def test_patch_refuses_an_invalid_value(
    db: DatabaseManager, moods: MoodEntryRepository, stored_entry: MoodEntry
) -> None:
    before = await stored_document(db, stored_entry.id)

    with pytest.raises(ValidationError) as raised:
        await moods.patch(stored_entry.id, {"mood_rating": 0})

    assert raised.value.field == "mood_rating"
    assert await stored_document(db, stored_entry.id) == before


async def test_patch_refuses_a_naive_datetime(
    db: DatabaseManager, plans: AsyncBaseRepository[CarePlanRecord]
) -> None:
    plan = await plans.create(CarePlanRecord(patient_id="patient_123", title="DBT"))

    with pytest.raises(ValidationError) as raised:
        await plans.patch(plan.id, {"reviewed_at": datetime(2024, 5, 14, 9, 0)})

    assert (raised.value.field, raised.value.rule) == (
        "reviewed_at",
        "timezone_required",
    )
    assert (await plans.get(plan.id)).revision == 1


# -------------------------------------------------------- queries and pages


async def test_list_all_refuses_a_page_larger_than_the_maximum(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    too_many = db.settings.max_page_size + 1

    with pytest.raises(ValidationError) as raised:
        await moods.list_all(QueryOptions(limit=too_many))

    assert (raised.value.field, raised.value.rule) == ("limit", "maximum")


def test_query_options_refuse_a_page_of_no_records() -> None:
    with pytest.raises(ValidationError) as raised:
        QueryOptions(limit=0)

    assert (raised.value.field, raised.value.rule) == ("limit", "minimum")


@pytest.mark.parametrize(
    ("lookups", "field", "rule"),
    [
        ({"user_id": {"$ne": None}}, "user_id", "scalar_expected"),
        ({"$where": "sleep(1000)"}, "$where", "operator_injection"),
        ({"mood_score__gte": 7}, "mood_score", "unknown_field"),
        ({"created_at__gte": datetime(2024, 5, 1)}, "created_at", "timezone_required"),
    ],
    ids=["operator_as_value", "operator_as_key", "unknown_field", "naive_datetime"],
)
@pytest.mark.parametrize("call", ["find_by", "find_one_by", "count", "exists"])
async def test_every_lookup_call_refuses_bad_lookups(
    moods: MoodEntryRepository,
    stored_entry: MoodEntry,
    call: str,
    lookups: dict[str, Any],
    field: str,
    rule: str,
) -> None:
    with pytest.raises(ValidationError) as raised:
        await getattr(moods, call)(**lookups)

    assert raised.value.field is not None
    assert raised.value.field.startswith(field)
    assert raised.value.rule == rule


async def test_the_seeds_naive_now_is_refused_with_the_filter_named(
    moods: MoodEntryRepository,
) -> None:
    options = QueryOptions(filters={"created_at__gte": datetime(2024, 5, 1)})

    with pytest.raises(ValidationError) as raised:
        await moods.list_all(options)

    assert (raised.value.field, raised.value.rule) == (
        "created_at__gte",
        "timezone_required",
    )


async def test_positional_filters_must_be_q_objects(
    moods: MoodEntryRepository,
) -> None:
    with pytest.raises(ValidationError) as raised:
        await moods.find_by({"user_id": "patient_123"})  # type: ignore[arg-type]

    assert (raised.value.field, raised.value.rule) == ("where", "type")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"order_by": ["mood_score"]}, "order_by.mood_score"),
        ({"fields": ["mood_score"]}, "fields.mood_score"),
        ({"after": "not-a-cursor"}, "after"),
    ],
    ids=["order_by", "fields", "after"],
)
async def test_list_all_refuses_unknown_names_and_forged_cursors(
    moods: MoodEntryRepository, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        await moods.list_all(QueryOptions(**options))

    assert raised.value.field == field


# ------------------------------------------------------------ access context


def test_access_context_refuses_a_naive_expiry() -> None:
    with pytest.raises(ValidationError) as raised:
        AccessContext(
            actor_id="nurse_321",
            role=UserRole.NURSE,
            purpose=PurposeOfUse.EMERGENCY,
            emergency_reason="patient unresponsive",
            expires_at=datetime(2024, 5, 14, 23, 0),
        )

    assert (raised.value.field, raised.value.rule) == ("expires_at", "aware")


def test_access_context_refuses_a_blank_actor() -> None:
    with pytest.raises(ValidationError) as raised:
        AccessContext(actor_id="  ", role=UserRole.THERAPIST)

    assert (raised.value.field, raised.value.rule) == ("actor_id", "required")


# ------------------------------------------------- no values in the errors


async def test_validation_error_message_leaves_out_the_rejected_note(
    moods: MoodEntryRepository,
) -> None:
    entry = unchecked_mood_entry(notes=DISCLOSURE * 200, user_id=PATIENT)

    with pytest.raises(ValidationError) as raised:
        await moods.create(entry)

    assert raised.value.field == "notes"
    assert DISCLOSURE not in str(raised.value)
    assert PATIENT not in str(raised.value)
    assert not any(DISCLOSURE in message for _, _, message in raised.value.errors)


async def test_validation_error_message_leaves_out_a_rejected_id(
    moods: MoodEntryRepository,
) -> None:
    entry = unchecked_mood_entry(id=PATIENT * 3)

    with pytest.raises(ValidationError) as raised:
        await moods.create(entry)

    assert PATIENT not in str(raised.value)


async def test_validation_error_keeps_the_pydantic_error_without_chaining_it(
    moods: MoodEntryRepository,
) -> None:
    entry = unchecked_mood_entry(notes=DISCLOSURE * 200)

    with pytest.raises(ValidationError) as raised:
        await moods.create(entry)

    assert isinstance(raised.value.cause, PydanticValidationError)
    assert raised.value.__cause__ is None
    rendered = "".join(traceback.format_exception(raised.value))
    assert DISCLOSURE not in rendered


async def test_filter_error_message_leaves_out_the_rejected_value(
    moods: MoodEntryRepository,
) -> None:
    with pytest.raises(ValidationError) as raised:
        await moods.find_by(mood_rating=DISCLOSURE)

    assert raised.value.field == "mood_rating"
    assert DISCLOSURE not in str(raised.value)
    assert raised.value.__cause__ is None


async def test_refusing_a_mutated_entry_warns_nothing_that_echoes_its_values(
    moods: MoodEntryRepository,
) -> None:
    entry = mood_entry()
    entry.tags.append({"note": SHORT_DISCLOSURE})  # type: ignore[arg-type]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValidationError):
            await moods.create(entry)

    assert not any(SHORT_DISCLOSURE in str(warning.message) for warning in caught)


async def test_duplicate_error_message_leaves_out_the_stored_values(
    moods: MoodEntryRepository,
) -> None:
    original = await moods.create(mood_entry(user_id=PATIENT, notes=DISCLOSURE))
    copy = mood_entry(id=original.id, user_id=PATIENT, notes=DISCLOSURE)

    with pytest.raises(DuplicateError) as raised:
        await moods.create(copy)

    assert DISCLOSURE not in str(raised.value)
    assert PATIENT not in str(raised.value)
    assert raised.value.entity_id == original.id


async def test_duplicate_error_keeps_the_driver_error_without_chaining_it(
    moods: MoodEntryRepository,
) -> None:
    original = await moods.create(mood_entry(user_id=PATIENT, notes=DISCLOSURE))

    with pytest.raises(DuplicateError) as raised:
        await moods.create(mood_entry(id=original.id, notes=DISCLOSURE))

    assert type(raised.value.cause).__name__ == "DuplicateKeyError"
    assert raised.value.__cause__ is None
    rendered = "".join(traceback.format_exception(raised.value))
    assert DISCLOSURE not in rendered
