"""Transactions on the real replica set: all or nothing, nested blocks join the
outer one, and conflicting transactions surface as ``ConcurrencyError`` (or are
retried by ``run_in_transaction``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.models import CarePlanRecord, GoalStatus
from wellness_repo import (
    AsyncBaseRepository,
    ConcurrencyError,
    DatabaseManager,
    MoodEntry,
    cache_result,
    create_mood_entry_repository,
)

pytestmark = pytest.mark.integration


class CachedCarePlans(AsyncBaseRepository[CarePlanRecord]):
    """Care plans with a cached lookup of a patient's plans."""

    model = CarePlanRecord

    @cache_result(ttl=60)
    async def plans_of(self, patient_id: str) -> list[CarePlanRecord]:
        """Every care plan of one patient."""
        return await self.find_by(patient_id=patient_id)


class PharmacyFeedDownError(Exception):
    """A failure in the middle of a clinical workflow."""


@pytest.fixture
def plans(mongo_db: DatabaseManager) -> CachedCarePlans:
    return CachedCarePlans(mongo_db)


def discharge_plan(**changes: Any) -> CarePlanRecord:
    """A discharge plan after an inpatient stay for a depressive episode."""
    values: dict[str, Any] = {
        "patient_id": "patient_123",
        "title": "Discharge plan: step down to intensive outpatient",
        "score": 19,
    }
    values.update(changes)
    return CarePlanRecord(**values)


async def raw(db: DatabaseManager, record_id: str) -> dict[str, Any] | None:
    document: dict[str, Any] | None = await db.collection(CarePlanRecord).find_one(
        {"_id": record_id}
    )
    return document


async def stored_count(db: DatabaseManager) -> int:
    return int(await db.collection(CarePlanRecord).count_documents({}))


async def test_a_failure_inside_the_block_rolls_back_every_write(
    mongo_db: DatabaseManager, plans: CachedCarePlans
) -> None:
    kept = await plans.create(discharge_plan(title="Inpatient plan"))
    doomed = await plans.create(discharge_plan(title="Crisis plan"))
    before_kept = await raw(mongo_db, kept.id)
    before_doomed = await raw(mongo_db, doomed.id)

    async def discharge() -> None:
        async with mongo_db.transaction():
            await plans.create(discharge_plan())
            await plans.patch(kept.id, {"status": GoalStatus.MET})
            await plans.delete(doomed.id)
            raise PharmacyFeedDownError

    with pytest.raises(PharmacyFeedDownError):
        await discharge()

    assert await stored_count(mongo_db) == 2
    assert await raw(mongo_db, kept.id) == before_kept
    assert await raw(mongo_db, doomed.id) == before_doomed


async def test_a_soft_delete_inside_a_failed_block_is_rolled_back(
    mongo_db: DatabaseManager,
) -> None:
    moods = create_mood_entry_repository(mongo_db)
    entry = await moods.create(MoodEntry(user_id="patient_123", mood_rating=3))

    async def retract() -> None:
        async with mongo_db.transaction():
            await moods.delete(entry.id)
            raise PharmacyFeedDownError

    with pytest.raises(PharmacyFeedDownError):
        await retract()

    assert (await moods.get(entry.id)).deleted_at is None


async def test_a_block_that_completes_commits_every_write(
    mongo_db: DatabaseManager, plans: CachedCarePlans
) -> None:
    existing = await plans.create(discharge_plan(title="Inpatient plan"))

    async with mongo_db.transaction():
        created = await plans.create(discharge_plan())
        await plans.patch(existing.id, {"status": GoalStatus.MET})

    assert await plans.get_by_id(created.id) is not None
    assert (await plans.get(existing.id)).status is GoalStatus.MET


async def test_writes_stay_invisible_outside_until_the_commit(
    mongo_db: DatabaseManager, plans: CachedCarePlans
) -> None:
    async with mongo_db.transaction():
        created = await plans.create(discharge_plan())
        seen_inside = await plans.get_by_id(created.id)

        seen_outside = await raw(mongo_db, created.id)

    assert seen_inside is not None
    assert seen_outside is None
    assert await raw(mongo_db, created.id) is not None


async def test_run_in_transaction_commits_and_returns_the_result(
    mongo_db: DatabaseManager, plans: CachedCarePlans
) -> None:
    async def step_down() -> CarePlanRecord:
        await plans.create(discharge_plan(title="Inpatient plan", score=23))
        return await plans.create(discharge_plan())

    created = await mongo_db.run_in_transaction(step_down)

    assert (await plans.get(created.id)).title == created.title
    assert await stored_count(mongo_db) == 2


async def test_run_in_transaction_rolls_back_when_the_work_fails(
    mongo_db: DatabaseManager, plans: CachedCarePlans
) -> None:
    async def step_down() -> None:
        await plans.create(discharge_plan())
        raise PharmacyFeedDownError

    with pytest.raises(PharmacyFeedDownError):
        await mongo_db.run_in_transaction(step_down)

    assert await stored_count(mongo_db) == 0


async def test_a_nested_block_joins_the_outer_transaction(
    mongo_db: DatabaseManager, plans: CachedCarePlans
) -> None:
    async def discharge() -> None:
        async with mongo_db.transaction():
            await plans.create(discharge_plan(title="Inpatient plan"))
            async with mongo_db.transaction():
                await plans.create(discharge_plan())
            raise PharmacyFeedDownError

    with pytest.raises(PharmacyFeedDownError):
        await discharge()

    assert await stored_count(mongo_db) == 0


async def test_a_nested_block_does_not_commit_on_its_own(
    mongo_db: DatabaseManager, plans: CachedCarePlans
) -> None:
    async with mongo_db.transaction():
        async with mongo_db.transaction():
            created = await plans.create(discharge_plan())

        visible_after_inner_block = await raw(mongo_db, created.id)

    assert visible_after_inner_block is None
    assert await raw(mongo_db, created.id) is not None


async def test_conflicting_transactions_surface_as_concurrency_error(
    mongo_db: DatabaseManager, plans: CachedCarePlans
) -> None:
    plan = await plans.create(discharge_plan())
    first_has_written = asyncio.Event()
    second_is_done = asyncio.Event()

    async def psychiatrist() -> None:
        async with mongo_db.transaction():
            await plans.patch(plan.id, {"score": 15})
            first_has_written.set()
            await second_is_done.wait()

    async def therapist() -> None:
        await first_has_written.wait()
        try:
            async with mongo_db.transaction():
                await plans.patch(plan.id, {"status": GoalStatus.MET})
        finally:
            second_is_done.set()

    outcomes = await asyncio.gather(psychiatrist(), therapist(), return_exceptions=True)

    assert outcomes[0] is None
    assert isinstance(outcomes[1], ConcurrencyError)
    stored = await plans.get(plan.id)
    assert (stored.score, stored.status) == (15, GoalStatus.OPEN)


async def test_run_in_transaction_retries_a_conflicting_transaction(
    mongo_db: DatabaseManager, plans: CachedCarePlans
) -> None:
    plan = await plans.create(discharge_plan())
    first_has_written = asyncio.Event()
    first_attempt_failed = asyncio.Event()
    first_has_committed = asyncio.Event()
    attempts = 0

    async def psychiatrist() -> None:
        async with mongo_db.transaction():
            await plans.patch(plan.id, {"score": 15})
            first_has_written.set()
            await first_attempt_failed.wait()
        first_has_committed.set()

    async def close_goal() -> CarePlanRecord:
        nonlocal attempts
        attempts += 1
        if attempts > 1:
            await first_has_committed.wait()
        try:
            return await plans.patch(plan.id, {"status": GoalStatus.MET})
        except Exception:
            first_attempt_failed.set()
            raise

    async def therapist() -> CarePlanRecord:
        await first_has_written.wait()
        return await mongo_db.run_in_transaction(close_goal)

    _, closed = await asyncio.gather(psychiatrist(), therapist())

    assert attempts == 2
    assert (closed.score, closed.status) == (15, GoalStatus.MET)


async def test_a_read_cached_inside_a_rolled_back_transaction_is_not_served(
    plans: CachedCarePlans,
) -> None:
    async def admit_and_look_up() -> None:
        async with plans.db.transaction():
            await plans.create(discharge_plan())
            await plans.plans_of("patient_123")
            raise PharmacyFeedDownError

    with pytest.raises(PharmacyFeedDownError):
        await admit_and_look_up()

    after_rollback = await plans.plans_of("patient_123")

    assert after_rollback == []


async def test_a_read_cached_before_a_commit_is_not_served_after_it(
    plans: CachedCarePlans,
) -> None:
    written = asyncio.Event()
    read = asyncio.Event()

    async def admit() -> CarePlanRecord:
        async with plans.db.transaction():
            created = await plans.create(discharge_plan())
            written.set()
            await read.wait()
        return created

    async def look_up() -> None:
        await written.wait()
        await plans.plans_of("patient_123")
        read.set()

    lookup = asyncio.ensure_future(look_up())
    created = await admit()
    await lookup

    after_commit = await plans.plans_of("patient_123")

    assert [plan.id for plan in after_commit] == [created.id]
