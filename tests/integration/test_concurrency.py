"""Optimistic concurrency under real contention, on the real server: of many
writers starting from one revision exactly one wins, and concurrent patches of
different fields lose nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.models import CarePlanRecord, Contact, GoalStatus
from wellness_repo import AsyncBaseRepository, ConcurrencyError, DatabaseManager

pytestmark = pytest.mark.integration

CLINICIANS = 10


@pytest.fixture
def plans(mongo_db: DatabaseManager) -> AsyncBaseRepository[CarePlanRecord]:
    return AsyncBaseRepository(mongo_db, model=CarePlanRecord)


def anxiety_plan() -> CarePlanRecord:
    """A care plan for generalised anxiety disorder, GAD-7 score 15."""
    return CarePlanRecord(
        patient_id="patient_123",
        title="CBT for generalised anxiety disorder",
        score=15,
    )


async def test_of_many_updates_from_one_revision_exactly_one_succeeds(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    plan = await plans.create(anxiety_plan())
    copies = [await plans.get(plan.id) for _ in range(CLINICIANS)]
    for clinician, copy in enumerate(copies):
        copy.score = clinician

    outcomes = await asyncio.gather(
        *(plans.update(copy) for copy in copies), return_exceptions=True
    )

    winners = [o for o in outcomes if isinstance(o, CarePlanRecord)]
    losers = [o for o in outcomes if isinstance(o, ConcurrencyError)]
    assert (len(winners), len(losers)) == (1, CLINICIANS - 1)


async def test_the_stored_record_is_the_winners(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    plan = await plans.create(anxiety_plan())
    copies = [await plans.get(plan.id) for _ in range(CLINICIANS)]
    for clinician, copy in enumerate(copies):
        copy.title = f"Edited by clinician {clinician}"
        copy.score = clinician

    outcomes = await asyncio.gather(
        *(plans.update(copy) for copy in copies), return_exceptions=True
    )

    (winner,) = [o for o in outcomes if isinstance(o, CarePlanRecord)]
    stored = await plans.get(plan.id)
    assert stored == winner
    assert (stored.title, stored.score) == (
        f"Edited by clinician {winner.score}",
        winner.score,
    )
    assert stored.revision == 2


async def test_losers_are_told_which_revision_they_were_based_on(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    plan = await plans.create(anxiety_plan())
    copies = [await plans.get(plan.id) for _ in range(CLINICIANS)]

    outcomes = await asyncio.gather(
        *(plans.update(copy) for copy in copies), return_exceptions=True
    )

    losers = [o for o in outcomes if isinstance(o, ConcurrencyError)]
    assert {error.expected_revision for error in losers} == {1}
    assert {error.entity_id for error in losers} == {plan.id}


async def test_concurrent_patches_of_different_fields_lose_no_update(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    plan = await plans.create(anxiety_plan())
    changes: list[dict[str, Any]] = [
        {"title": "CBT and sertraline for generalised anxiety disorder"},
        {"score": 9},
        {"status": GoalStatus.MET},
        {"reviewed_at": datetime(2024, 6, 3, 14, 0, tzinfo=UTC)},
        {"contact": Contact(name="Dr. Amara Okafor", phone="+44 20 7946 0018")},
    ]

    await asyncio.gather(*(plans.patch(plan.id, change) for change in changes))

    stored = await plans.get(plan.id)
    assert stored.title == "CBT and sertraline for generalised anxiety disorder"
    assert stored.score == 9
    assert stored.status is GoalStatus.MET
    assert stored.reviewed_at == datetime(2024, 6, 3, 14, 0, tzinfo=UTC)
    assert stored.contact == Contact(name="Dr. Amara Okafor", phone="+44 20 7946 0018")
    assert stored.revision == 1 + len(changes)


async def test_concurrent_patches_at_one_expected_revision_let_only_one_apply(
    plans: AsyncBaseRepository[CarePlanRecord],
) -> None:
    plan = await plans.create(anxiety_plan())

    outcomes = await asyncio.gather(
        plans.patch(plan.id, {"score": 9}, expected_revision=1),
        plans.patch(plan.id, {"status": GoalStatus.MET}, expected_revision=1),
        return_exceptions=True,
    )

    assert sum(isinstance(o, CarePlanRecord) for o in outcomes) == 1
    assert sum(isinstance(o, ConcurrencyError) for o in outcomes) == 1
    assert (await plans.get(plan.id)).revision == 2
