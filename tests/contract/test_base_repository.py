"""The base repository's contract: create, read, update, patch, delete, list and
count, on the embedded backend and on a real MongoDB server alike."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.conftest import SYSTEM, drop_and_close
from tests.support.models import TEST_MODELS, CarePlanRecord, Goal, GoalStatus
from wellness_repo import (
    AccessContext,
    AsyncBaseRepository,
    ConcurrencyError,
    DatabaseManager,
    DuplicateError,
    MoodEntry,
    MoodEntryRepository,
    NotFoundError,
    QueryOptions,
    Settings,
    UserRole,
    ValidationError,
    acting_as,
    connect,
    create_mood_entry_repository,
)

THERAPIST = AccessContext(actor_id="therapist_456", role=UserRole.THERAPIST)
REVIEWED_AT = datetime(2024, 3, 4, 15, 30, 12, 345000, tzinfo=UTC)


@pytest.fixture
def plans(db: DatabaseManager) -> AsyncBaseRepository[CarePlanRecord]:
    return AsyncBaseRepository(db, model=CarePlanRecord)


@pytest.fixture
def moods(db: DatabaseManager) -> MoodEntryRepository:
    return create_mood_entry_repository(db)


@pytest.fixture
async def small_page_db(
    backend: str, mongodb_uri: str
) -> AsyncIterator[DatabaseManager]:
    """A database whose listings hold at most three records per page."""
    manager = await connect(
        None if backend == "embedded" else mongodb_uri,
        f"test_{uuid.uuid4().hex[:16]}",
        context=SYSTEM,
        settings=Settings(max_page_size=3),
        document_models=TEST_MODELS,
        apply_indexes=True,
    )
    try:
        yield manager
    finally:
        await drop_and_close(manager)


def panic_plan(**changes: Any) -> CarePlanRecord:
    """A CBT care plan for a patient with panic disorder."""
    values: dict[str, Any] = {
        "patient_id": "patient_123",
        "title": "CBT for panic disorder",
        "score": 14,
        "tags": ["panic", "sleep"],
        "goals": [Goal(code="fewer-panic-attacks", progress=20)],
        "reviewed_at": REVIEWED_AT,
    }
    values.update(changes)
    return CarePlanRecord(**values)


def evening_mood(**changes: Any) -> MoodEntry:
    """A patient's evening mood check-in."""
    values: dict[str, Any] = {
        "user_id": "patient_123",
        "mood_rating": 6,
        "tags": ["work stress"],
        "notes": "Slept badly, calmer after a walk",
    }
    values.update(changes)
    return MoodEntry(**values)


async def stored_count(db: DatabaseManager, model: type[Any]) -> int:
    return int(await db.collection(model).count_documents({}))


# ---------------------------------------------------------------- create


async def test_create_returns_the_record_at_revision_one(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    plan = panic_plan()

    created = await plans.create(plan)

    assert created.revision == 1
    assert created.id == plan.id
    assert created.title == "CBT for panic disorder"
    assert created.goals == [Goal(code="fewer-panic-attacks", progress=20)]


async def test_created_record_reads_back_equal(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    created = await plans.create(panic_plan())

    fetched = await plans.get(created.id)

    assert fetched == created


async def test_datetimes_read_back_as_utc_with_millisecond_precision(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    eastern = timezone(timedelta(hours=-5))
    reviewed = datetime(2024, 3, 4, 10, 30, 12, 345678, tzinfo=eastern)
    created = await plans.create(panic_plan(reviewed_at=reviewed))

    fetched = await plans.get(created.id)

    assert fetched.reviewed_at == datetime(2024, 3, 4, 15, 30, 12, 345000, tzinfo=UTC)
    assert fetched.reviewed_at is not None
    assert fetched.reviewed_at.utcoffset() == timedelta(0)
    assert fetched.created_at == created.created_at
    assert fetched.created_at.utcoffset() == timedelta(0)


async def test_create_keeps_a_caller_chosen_string_id(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    created = await plans.create(panic_plan(id="plan_2024_0001"))

    fetched = await plans.get("plan_2024_0001")

    assert fetched.plan_id == "plan_2024_0001"
    assert fetched.id == created.id


async def test_create_with_an_existing_id_raises_duplicate_and_keeps_the_original(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    original = await plans.create(panic_plan())

    with pytest.raises(DuplicateError) as raised:
        await plans.create(panic_plan(id=original.id, title="Grief counselling"))

    assert raised.value.entity_id == original.id
    assert (await plans.get(original.id)).title == "CBT for panic disorder"


async def test_duplicate_error_names_the_key_that_clashed(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    original = await plans.create(panic_plan())

    with pytest.raises(DuplicateError) as raised:
        await plans.create(panic_plan(id=original.id))

    assert raised.value.key == ("_id",)
    assert str(raised.value).startswith("a record with the same _id already exists")


async def test_create_many_stores_every_record_in_order(
    db: DatabaseManager, plans: AsyncBaseRepository[CarePlanRecord]
) -> None:
    batch = [panic_plan(score=score) for score in (21, 14, 7)]

    created = await plans.create_many(batch)

    assert [plan.id for plan in created] == [plan.id for plan in batch]
    assert {plan.revision for plan in created} == {1}
    assert await stored_count(db, CarePlanRecord) == 3


async def test_create_many_of_nothing_writes_nothing(
    db: DatabaseManager, plans: AsyncBaseRepository[CarePlanRecord]
) -> None:
    created = await plans.create_many([])

    assert created == []
    assert await stored_count(db, CarePlanRecord) == 0


async def test_create_many_with_an_existing_id_raises_duplicate(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    existing = await plans.create(panic_plan())
    batch = [panic_plan(), panic_plan(id=existing.id), panic_plan()]

    with pytest.raises(DuplicateError) as raised:
        await plans.create_many(batch)

    assert "1 record(s) before it were stored" in str(raised.value)


# ----------------------------------------------------------------- reads


async def test_get_by_id_of_an_unknown_id_returns_none(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    await plans.create(panic_plan())

    found = await plans.get_by_id("plan_that_was_never_written")

    assert found is None


async def test_get_of_an_unknown_id_raises_not_found(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    with pytest.raises(NotFoundError) as raised:
        await plans.get("plan_that_was_never_written")

    assert raised.value.entity == "CarePlanRecord"
    assert raised.value.entity_id == "plan_that_was_never_written"


async def test_mood_entry_exposes_its_id_as_entry_id(
    moods: MoodEntryRepository,
) -> None:
    created = await moods.create(evening_mood())

    fetched = await moods.get(created.entry_id)

    assert fetched.entry_id == created.id


# ---------------------------------------------------------------- update


async def test_update_stores_the_change_at_the_next_revision(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    plan = await plans.create(panic_plan())
    plan.title = "CBT for panic disorder with agoraphobia"

    updated = await plans.update(plan)

    assert updated.revision == 2
    stored = await plans.get(plan.id)
    assert stored.title == "CBT for panic disorder with agoraphobia"
    assert stored.revision == 2


async def test_update_sets_updated_at(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    plan = await plans.create(panic_plan())
    plan.score = 9

    updated = await plans.update(plan)

    assert updated.updated_at is not None
    assert updated.updated_at >= plan.created_at
    assert (await plans.get(plan.id)).updated_at == updated.updated_at


async def test_update_keeps_the_stored_created_at(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    plan = await plans.create(panic_plan())
    original_created_at = plan.created_at
    plan.created_at = datetime(2020, 1, 1, tzinfo=UTC)

    updated = await plans.update(plan)

    assert updated.created_at == original_created_at
    assert (await plans.get(plan.id)).created_at == original_created_at


async def test_stale_update_raises_concurrency_error(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    plan = await plans.create(panic_plan())
    therapist_copy = await plans.get(plan.id)
    psychiatrist_copy = await plans.get(plan.id)
    therapist_copy.score = 9
    await plans.update(therapist_copy)
    psychiatrist_copy.score = 18

    with pytest.raises(ConcurrencyError) as raised:
        await plans.update(psychiatrist_copy)

    assert raised.value.expected_revision == 1
    assert raised.value.entity_id == plan.id


async def test_stale_update_never_overwrites_the_newer_record(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    plan = await plans.create(panic_plan())
    therapist_copy = await plans.get(plan.id)
    psychiatrist_copy = await plans.get(plan.id)
    therapist_copy.score = 9
    await plans.update(therapist_copy)
    psychiatrist_copy.score = 18

    with pytest.raises(ConcurrencyError):
        await plans.update(psychiatrist_copy)

    stored = await plans.get(plan.id)
    assert stored.score == 9
    assert stored.revision == 2


async def test_update_of_an_unknown_record_raises_not_found(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    never_stored = panic_plan()

    with pytest.raises(NotFoundError):
        await plans.update(never_stored)


async def test_update_of_a_deleted_mood_entry_raises_not_found(
    moods: MoodEntryRepository,
) -> None:
    entry = await moods.create(evening_mood())
    await moods.delete(entry.id)
    entry.mood_rating = 8

    with pytest.raises(NotFoundError):
        await moods.update(entry)


# ----------------------------------------------------------------- patch


async def test_patch_changes_only_the_named_fields(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    plan = await plans.create(panic_plan())

    patched = await plans.patch(plan.id, {"score": 9, "status": "met"})

    assert patched.score == 9
    assert patched.status is GoalStatus.MET
    assert patched.title == "CBT for panic disorder"
    assert patched.revision == 2
    assert await plans.get(plan.id) == patched


async def test_patch_at_the_current_revision_applies(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    plan = await plans.create(panic_plan())

    patched = await plans.patch(plan.id, {"score": 9}, expected_revision=1)

    assert patched.score == 9


async def test_patch_at_a_stale_revision_raises_and_changes_nothing(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    plan = await plans.create(panic_plan())
    await plans.patch(plan.id, {"score": 9})

    with pytest.raises(ConcurrencyError):
        await plans.patch(plan.id, {"score": 18}, expected_revision=1)

    assert (await plans.get(plan.id)).score == 9


async def test_patch_of_an_unknown_record_raises_not_found(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    with pytest.raises(NotFoundError):
        await plans.patch("plan_that_was_never_written", {"score": 9})


# ---------------------------------------------------------------- delete


async def test_delete_removes_a_record_that_is_not_soft_deletable(
    db: DatabaseManager, plans: AsyncBaseRepository[CarePlanRecord]
) -> None:
    plan = await plans.create(panic_plan())

    deleted = await plans.delete(plan.id)

    assert deleted is True
    assert await plans.get_by_id(plan.id) is None
    assert await stored_count(db, CarePlanRecord) == 0


async def test_delete_of_an_unknown_id_returns_false(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    await plans.create(panic_plan())

    deleted = await plans.delete("plan_that_was_never_written")

    assert deleted is False


async def test_soft_deleted_entry_is_kept_with_who_deleted_it_and_when(
    db: DatabaseManager, moods: MoodEntryRepository
) -> None:
    entry = await moods.create(evening_mood())
    before = datetime.now(UTC) - timedelta(seconds=1)

    with acting_as(THERAPIST):
        deleted = await moods.delete(entry.id)

    assert deleted is True
    raw = await db.collection(MoodEntry).find_one({"_id": entry.id})
    assert raw is not None
    assert raw["deleted_by"] == "therapist_456"
    assert raw["deleted_at"].replace(tzinfo=UTC) >= before
    assert raw["notes"].subtype == 6  # the note is kept, still encrypted


async def test_soft_deleted_entry_is_invisible_to_every_query(
    moods: MoodEntryRepository,
) -> None:
    kept = await moods.create(evening_mood(mood_rating=7))
    removed = await moods.create(evening_mood(mood_rating=3))

    await moods.delete(removed.id)

    assert await moods.get_by_id(removed.id) is None
    assert [e.id for e in await moods.list_all()] == [kept.id]
    assert [e.id for e in await moods.find_by(user_id="patient_123")] == [kept.id]
    assert await moods.find_one_by(mood_rating=3) is None
    assert await moods.count(user_id="patient_123") == 1
    assert await moods.exists(mood_rating=3) is False


async def test_deleting_an_already_deleted_entry_returns_false(
    moods: MoodEntryRepository,
) -> None:
    entry = await moods.create(evening_mood())
    await moods.delete(entry.id)

    deleted_again = await moods.delete(entry.id)

    assert deleted_again is False


# --------------------------------------------------------------- listing


async def test_list_all_without_options_returns_every_record(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    created = await plans.create_many([panic_plan(), panic_plan(), panic_plan()])

    page = await plans.list_all()

    assert [plan.id for plan in page] == [plan.id for plan in created]
    assert page.has_more is False
    assert page.next_cursor is None


async def test_list_all_filters_and_orders(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    await plans.create_many(
        [
            panic_plan(score=21),
            panic_plan(score=7),
            panic_plan(score=14),
            panic_plan(patient_id="patient_789", score=18),
        ]
    )

    page = await plans.list_all(
        QueryOptions(
            filters={"patient_id": "patient_123", "score__gte": 10},
            order_by=["-score"],
        )
    )

    assert [plan.score for plan in page] == [21, 14]


async def test_list_all_pages_with_offset_and_counts_every_match(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    await plans.create_many([panic_plan(score=score) for score in range(1, 8)])

    page = await plans.list_all(
        QueryOptions(order_by=["score"], limit=2, offset=2, include_count=True)
    )

    assert [plan.score for plan in page] == [3, 4]
    assert page.total_count == 7
    assert page.has_more is True
    assert (page.limit, page.offset) == (2, 2)


async def test_list_all_cursor_walks_every_record_once_in_order(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    await plans.create_many([panic_plan(score=score % 4) for score in range(10)])
    expected = sorted(
        ((plan.score, plan.id) for plan in await plans.find_by()),
        key=lambda pair: (-(pair[0] or 0), pair[1]),
    )
    seen: list[tuple[int | None, str]] = []
    after = None

    while True:
        page = await plans.list_all(
            QueryOptions(order_by=["-score"], limit=3, after=after)
        )
        seen.extend((plan.score, plan.id) for plan in page)
        if page.next_cursor is None:
            break
        after = page.next_cursor

    assert seen == expected


async def test_projection_returns_only_the_named_fields(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    created = await plans.create(panic_plan())

    page = await plans.list_all(QueryOptions(fields=["title", "score"]))

    record = page.items[0]
    assert (record.id, record.title, record.score) == (created.id, created.title, 14)
    with pytest.raises(AttributeError):
        _ = record.patient_id
    with pytest.raises(AttributeError):
        _ = record.goals


# -------------------------------------------------- lookups and counting


async def test_count_counts_matching_records(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    await plans.create_many(
        [panic_plan(score=21), panic_plan(score=7), panic_plan(score=14)]
    )

    severe = await plans.count(score__gte=14)

    assert severe == 2


async def test_exists_tells_whether_any_record_matches(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    await plans.create(panic_plan(tags=["panic"]))

    assert await plans.exists(tags__contains="panic") is True
    assert await plans.exists(tags__contains="insomnia") is False


async def test_find_one_by_returns_the_first_match_in_id_order(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    first = await plans.create(panic_plan(status=GoalStatus.MET))
    await plans.create(panic_plan(status=GoalStatus.MET))

    found = await plans.find_one_by(status=GoalStatus.MET)

    assert found is not None
    assert found.id == first.id


async def test_find_one_by_without_a_match_returns_none(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    await plans.create(panic_plan())

    found = await plans.find_one_by(patient_id="patient_789")

    assert found is None


async def test_find_by_returns_every_match_in_id_order(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    created = await plans.create_many(
        [panic_plan(), panic_plan(patient_id="patient_789"), panic_plan()]
    )

    found = await plans.find_by(patient_id="patient_123")

    assert [plan.id for plan in found] == [created[0].id, created[2].id]


async def test_find_by_returns_a_full_page_of_matches(
    small_page_db: DatabaseManager,
) -> None:
    plans = AsyncBaseRepository(small_page_db, model=CarePlanRecord)
    await plans.create_many([panic_plan() for _ in range(3)])

    found = await plans.find_by(patient_id="patient_123")

    assert len(found) == 3


async def test_find_by_refuses_more_matches_than_one_page_holds(
    small_page_db: DatabaseManager,
) -> None:
    plans = AsyncBaseRepository(small_page_db, model=CarePlanRecord)
    await plans.create_many([panic_plan() for _ in range(4)])

    with pytest.raises(ValidationError) as raised:
        await plans.find_by(patient_id="patient_123")

    assert raised.value.rule == "max_page_size"


# ------------------------------------------------------------- factories


async def test_factory_builds_the_mood_repository_with_the_given_logger(
    db: DatabaseManager,
) -> None:
    logger = logging.getLogger("wellness_repo.tests.mood")

    repository = create_mood_entry_repository(db, logger)

    assert isinstance(repository, MoodEntryRepository)
    assert repository.logger is logger
    assert repository.db is db


async def test_factory_refuses_something_that_is_not_a_database_manager() -> None:
    not_a_manager: Any = "mongodb://localhost:27017"

    with pytest.raises(TypeError):
        create_mood_entry_repository(not_a_manager)
