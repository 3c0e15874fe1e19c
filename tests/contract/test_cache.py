"""``cache_result``: a repository read is answered from memory for its time to
live, until a write to the same kind of record, and only to the same caller.

A record written with the raw collection, behind the library's back, shows
whether an answer came from the cache (it does not see the record) or from the
database (it does).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import drop_and_close
from tests.support.access_data import RecordingAuditor
from tests.support.models import TEST_MODELS, CarePlanRecord
from wellness_repo import (
    AccessContext,
    AccessDeniedError,
    AsyncBaseRepository,
    DatabaseManager,
    PurposeOfUse,
    UserRole,
    acting_as,
    cache_result,
    connect,
    new_id,
)
from wellness_repo.security.policy import Operation, PermitAllPolicy

THERAPIST = AccessContext(actor_id="therapist_456", role=UserRole.THERAPIST)


class CachedCarePlans(AsyncBaseRepository[CarePlanRecord]):
    """Care plans with a cached lookup of a patient's plans."""

    model = CarePlanRecord

    @cache_result(ttl=60)
    async def plans_of(self, patient_id: str) -> list[CarePlanRecord]:
        """Every care plan of one patient."""
        return await self.find_by(patient_id=patient_id)

    @cache_result(ttl=0.2)
    async def briefly_cached_plans_of(self, patient_id: str) -> list[CarePlanRecord]:
        """The same lookup, remembered for a fifth of a second."""
        return await self.find_by(patient_id=patient_id)

    @cache_result(ttl=60)
    async def plans_of_any(self, patient_ids: list[str]) -> list[CarePlanRecord]:
        """The care plans of several patients (a list argument is unhashable)."""
        return await self.find_by(patient_id__in=patient_ids)


@pytest.fixture
def plans(db: DatabaseManager) -> CachedCarePlans:
    return CachedCarePlans(db)


@pytest.fixture
async def service_db(backend: str, mongodb_uri: str) -> AsyncIterator[DatabaseManager]:
    """A database opened the way a service opens it: with no default context."""
    manager = await connect(
        None if backend == "embedded" else mongodb_uri,
        f"test_{uuid.uuid4().hex[:16]}",
        document_models=TEST_MODELS,
    )
    try:
        yield manager
    finally:
        await drop_and_close(manager)


@pytest.fixture
async def audited(
    backend: str, mongodb_uri: str
) -> AsyncIterator[tuple[DatabaseManager, RecordingAuditor]]:
    """A database whose every access event is kept for the test to read."""
    auditor = RecordingAuditor()
    manager = await connect(
        None if backend == "embedded" else mongodb_uri,
        f"test_{uuid.uuid4().hex[:16]}",
        context=AccessContext.system("cache-audit-test"),
        document_models=TEST_MODELS,
        policy=PermitAllPolicy(),
        auditor=auditor,
    )
    try:
        yield manager, auditor
    finally:
        await drop_and_close(manager)


def depression_plan(**changes: Any) -> CarePlanRecord:
    """A behavioural-activation plan for a patient with moderate depression."""
    values: dict[str, Any] = {
        "patient_id": "patient_123",
        "title": "Behavioural activation for moderate depression",
        "score": 14,
    }
    values.update(changes)
    return CarePlanRecord(**values)


async def write_behind_the_back(db: DatabaseManager, patient_id: str) -> str:
    """Store a plan with the raw collection, so no cache hears of it."""
    record_id = new_id()
    await db.collection(CarePlanRecord).insert_one(
        {
            "_id": record_id,
            "_rev": 1,
            "_version": 1,
            "created_at": datetime.now(UTC),
            "patient_id": patient_id,
            "title": "Relapse prevention",
        }
    )
    return record_id


def ids(records: list[CarePlanRecord]) -> list[str]:
    return [record.id for record in records]


async def test_repeated_read_is_answered_from_the_cache(
    db: DatabaseManager, plans: CachedCarePlans
) -> None:
    plan = await plans.create(depression_plan())
    first = await plans.plans_of("patient_123")
    await write_behind_the_back(db, "patient_123")

    second = await plans.plans_of("patient_123")

    assert ids(second) == ids(first) == [plan.id]


async def test_a_cached_answer_is_a_copy_the_caller_may_change(
    plans: CachedCarePlans,
) -> None:
    await plans.create(depression_plan())
    first = await plans.plans_of("patient_123")
    first[0].title = "Edited by the caller"
    first.clear()

    second = await plans.plans_of("patient_123")

    assert [plan.title for plan in second] == [
        "Behavioural activation for moderate depression"
    ]


async def test_each_argument_is_cached_on_its_own(
    plans: CachedCarePlans,
) -> None:
    mine = await plans.create(depression_plan())
    theirs = await plans.create(depression_plan(patient_id="patient_789"))
    await plans.plans_of("patient_123")

    other_patients = await plans.plans_of("patient_789")

    assert ids(other_patients) == [theirs.id]
    assert ids(await plans.plans_of("patient_123")) == [mine.id]


async def test_create_invalidates_the_cached_answer(
    plans: CachedCarePlans,
) -> None:
    first = await plans.create(depression_plan())
    await plans.plans_of("patient_123")

    second = await plans.create(depression_plan())

    assert ids(await plans.plans_of("patient_123")) == [first.id, second.id]


async def test_create_many_invalidates_the_cached_answer(
    plans: CachedCarePlans,
) -> None:
    await plans.plans_of("patient_123")

    created = await plans.create_many([depression_plan(), depression_plan()])

    assert ids(await plans.plans_of("patient_123")) == ids(created)


async def test_update_invalidates_the_cached_answer(
    plans: CachedCarePlans,
) -> None:
    plan = await plans.create(depression_plan())
    await plans.plans_of("patient_123")
    plan.score = 8

    await plans.update(plan)

    assert [p.score for p in await plans.plans_of("patient_123")] == [8]


async def test_patch_invalidates_the_cached_answer(
    plans: CachedCarePlans,
) -> None:
    plan = await plans.create(depression_plan())
    await plans.plans_of("patient_123")

    await plans.patch(plan.id, {"score": 8})

    assert [p.score for p in await plans.plans_of("patient_123")] == [8]


async def test_delete_invalidates_the_cached_answer(
    plans: CachedCarePlans,
) -> None:
    plan = await plans.create(depression_plan())
    await plans.plans_of("patient_123")

    await plans.delete(plan.id)

    assert await plans.plans_of("patient_123") == []


async def test_a_write_through_another_repository_invalidates_the_cached_answer(
    db: DatabaseManager, plans: CachedCarePlans
) -> None:
    await plans.plans_of("patient_123")
    other_repository = AsyncBaseRepository(db, model=CarePlanRecord)

    plan = await other_repository.create(depression_plan())

    assert ids(await plans.plans_of("patient_123")) == [plan.id]


async def test_a_cached_answer_expires_after_its_time_to_live(
    db: DatabaseManager, plans: CachedCarePlans
) -> None:
    await plans.briefly_cached_plans_of("patient_123")
    written = await write_behind_the_back(db, "patient_123")

    await asyncio.sleep(0.3)

    assert ids(await plans.briefly_cached_plans_of("patient_123")) == [written]


async def test_a_call_with_unhashable_arguments_is_never_cached(
    db: DatabaseManager, plans: CachedCarePlans
) -> None:
    await plans.plans_of_any(["patient_123"])
    written = await write_behind_the_back(db, "patient_123")

    again = await plans.plans_of_any(["patient_123"])

    assert ids(again) == [written]


@pytest.mark.parametrize(
    "other_caller",
    [
        AccessContext(actor_id="therapist_999", role=UserRole.THERAPIST),
        AccessContext(actor_id="therapist_456", role=UserRole.CARE_COORDINATOR),
        AccessContext(
            actor_id="therapist_456",
            role=UserRole.THERAPIST,
            purpose=PurposeOfUse.PAYMENT,
        ),
    ],
    ids=["another_actor", "another_role", "another_purpose"],
)
async def test_a_cached_answer_is_never_served_to_another_caller(
    db: DatabaseManager, plans: CachedCarePlans, other_caller: AccessContext
) -> None:
    with acting_as(THERAPIST):
        await plans.plans_of("patient_123")
    written = await write_behind_the_back(db, "patient_123")

    with acting_as(other_caller):
        answer = await plans.plans_of("patient_123")

    assert ids(answer) == [written]


async def test_an_answer_from_the_cache_is_audited_as_the_read_it_repeats(
    audited: tuple[DatabaseManager, RecordingAuditor],
) -> None:
    db, auditor = audited
    plans = CachedCarePlans(db)
    plan = await plans.create(depression_plan())
    first_grant = on_call("patient unresponsive in the waiting room")
    second_grant = on_call("collapsed again after the first assessment")
    with acting_as(first_grant):
        await plans.plans_of("patient_123")
    (read,) = [e for e in auditor.events if e.operation is Operation.READ]
    auditor.events.clear()

    with acting_as(second_grant):
        answer = await plans.plans_of("patient_123")

    assert ids(answer) == [plan.id]
    (again,) = auditor.events
    assert again.context == second_grant
    assert again.at >= read.at
    assert (again.entity, again.operation, again.outcome) == (
        read.entity,
        read.operation,
        "ok",
    )
    assert (again.record_ids, again.patient_ids, again.query_shape) == (
        (plan.id,),
        read.patient_ids,
        read.query_shape,
    )


class PlanTitles(AsyncBaseRepository[CarePlanRecord]):
    """A cached read that also looks the records up under a service context."""

    model = CarePlanRecord

    @cache_result(ttl=60)
    async def titles_for(self, patient_id: str) -> list[str]:
        with acting_as(AccessContext.system("title-service")):
            service_view = await self.find_by(patient_id=patient_id)
        own_view = await self.find_by(patient_id=patient_id)
        return [plan.title for plan in (*service_view, *own_view)]


async def test_a_cache_hit_repeats_only_the_callers_own_reads(
    audited: tuple[DatabaseManager, RecordingAuditor],
) -> None:
    db, auditor = audited
    titles = PlanTitles(db)
    await titles.create(depression_plan())
    with acting_as(THERAPIST):
        await titles.titles_for("patient_123")
        missed = list(auditor.events)
        auditor.events.clear()

        await titles.titles_for("patient_123")

    assert [(e.operation, e.context.actor_id) for e in missed[-2:]] == [
        (Operation.READ, "system:title-service"),
        (Operation.READ, THERAPIST.actor_id),
    ]
    (again,) = auditor.events
    assert (again.operation, again.context) == (Operation.READ, THERAPIST)
    assert again.record_ids == missed[-1].record_ids


def on_call(reason: str) -> AccessContext:
    """A nurse's emergency grant, whose reason each access must record."""
    return AccessContext(
        actor_id="nurse_321",
        role=UserRole.NURSE,
        purpose=PurposeOfUse.EMERGENCY,
        emergency_reason=reason,
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )


async def test_a_cached_answer_is_not_served_once_an_emergency_grant_expires(
    plans: CachedCarePlans,
) -> None:
    await plans.create(depression_plan())
    break_glass = AccessContext(
        actor_id="nurse_321",
        role=UserRole.NURSE,
        purpose=PurposeOfUse.EMERGENCY,
        emergency_reason="patient unresponsive in the waiting room",
        expires_at=datetime.now(UTC) + timedelta(seconds=0.3),
    )
    with acting_as(break_glass):
        await plans.plans_of("patient_123")

    await asyncio.sleep(0.4)

    with acting_as(break_glass), pytest.raises(AccessDeniedError):
        await plans.plans_of("patient_123")


async def test_a_cached_read_without_any_access_context_is_denied(
    service_db: DatabaseManager,
) -> None:
    plans = CachedCarePlans(service_db)

    with pytest.raises(AccessDeniedError):
        await plans.plans_of("patient_123")


def test_a_time_to_live_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError, match="ttl"):
        cache_result(ttl=0)
