"""Clinical acts racing on the real server: concurrent progress reviews and
outcome measures on one plan are all counted (never a lost update), and of
racing activations of one patient-therapist pair exactly one succeeds."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.clinical_data import (
    PHQ9_MILD,
    active_relationship,
    five_goal_plan,
    relationship,
)
from wellness_repo import ConcurrencyError, DatabaseManager, DuplicateError
from wellness_repo.analysis.instruments import Instrument
from wellness_repo.errors import ValidationError
from wellness_repo.models.clinical import RelationshipStatus, TherapeuticRelationship
from wellness_repo.models.treatment_plans import OutcomeMeasure, TreatmentPlan
from wellness_repo.repositories.clinical import (
    TherapeuticRelationshipRepository,
    TreatmentPlanRepository,
)

pytestmark = pytest.mark.integration

ACTIVE = RelationshipStatus.ACTIVE


@pytest.fixture
def plans(mongo_db: DatabaseManager) -> TreatmentPlanRepository:
    return TreatmentPlanRepository(mongo_db)


@pytest.fixture
def relationships(mongo_db: DatabaseManager) -> TherapeuticRelationshipRepository:
    return TherapeuticRelationshipRepository(mongo_db)


async def test_concurrent_progress_reviews_of_one_plan_are_all_counted(
    plans: TreatmentPlanRepository,
) -> None:
    plan = await plans.create(five_goal_plan())
    reviews = [{f"goal_{number}": 10 * number} for number in range(1, 6)]

    outcomes = await asyncio.gather(
        *(plans.update_treatment_progress(plan.id, review) for review in reviews),
        return_exceptions=True,
    )

    applied = [r for r, o in zip(reviews, outcomes, strict=True) if _is_plan(o)]
    refused = [o for o in outcomes if isinstance(o, ConcurrencyError)]
    assert len(applied) + len(refused) == len(reviews)
    stored = await plans.get(plan.id)
    assert sorted(map(_key, (e.goals_progress for e in stored.progress_history))) == (
        sorted(map(_key, applied))
    )
    progress = {g.goal_id: g.progress for g in stored.treatment_goals}
    for review in applied:
        assert review.items() <= progress.items()


async def test_two_reviews_of_the_same_goal_both_enter_the_history(
    plans: TreatmentPlanRepository,
) -> None:
    plan = await plans.create(five_goal_plan())

    outcomes = await asyncio.gather(
        plans.update_treatment_progress(plan.id, {"goal_1": 40}, "Morning review"),
        plans.update_treatment_progress(plan.id, {"goal_1": 55}, "Supervisor review"),
        return_exceptions=True,
    )

    assert all(_is_plan(o) for o in outcomes), outcomes
    stored = await plans.get(plan.id)
    assert sorted(e.goals_progress["goal_1"] for e in stored.progress_history) == [
        40,
        55,
    ]
    last = stored.progress_history[-1].goals_progress["goal_1"]
    assert stored.treatment_goals[0].progress == last
    assert stored.revision == 3


async def test_concurrent_outcome_measures_of_one_plan_are_all_kept(
    plans: TreatmentPlanRepository,
) -> None:
    plan = await plans.create(five_goal_plan())

    outcomes = await asyncio.gather(
        *(
            plans.record_outcome_measure(plan.id, Instrument.PHQ9, PHQ9_MILD)
            for _ in range(4)
        ),
        return_exceptions=True,
    )

    recorded = {o.measure_id for o in outcomes if isinstance(o, OutcomeMeasure)}
    assert all(isinstance(o, OutcomeMeasure | ConcurrencyError) for o in outcomes)
    stored = await plans.get(plan.id)
    assert {m.measure_id for m in stored.outcome_measures} == recorded
    assert sum(m.change_from_baseline is None for m in stored.outcome_measures) == 1


async def test_of_two_racing_activations_of_one_pair_exactly_one_succeeds(
    relationships: TherapeuticRelationshipRepository,
) -> None:
    first = await relationships.create(relationship())
    second = await relationships.create(relationship())

    outcomes = await asyncio.gather(
        relationships.activate(first.id, "Intake completed"),
        relationships.activate(second.id, "Intake completed"),
        return_exceptions=True,
    )

    winners = [o for o in outcomes if isinstance(o, TherapeuticRelationship)]
    losers = [o for o in outcomes if isinstance(o, DuplicateError)]
    assert (len(winners), len(losers)) == (1, 1)
    active = await relationships.active_relationships_for_patient(first.patient_id)
    assert [r.id for r in active] == [winners[0].id]


async def test_the_losing_activation_leaves_its_relationship_untouched(
    relationships: TherapeuticRelationshipRepository,
) -> None:
    first = await relationships.create(relationship())
    second = await relationships.create(relationship())

    outcomes = await asyncio.gather(
        relationships.activate(first.id),
        relationships.activate(second.id),
        return_exceptions=True,
    )

    loser = first if isinstance(outcomes[0], DuplicateError) else second
    stored = await relationships.get(loser.id)
    assert stored.relationship_status is RelationshipStatus.PENDING
    assert stored.revision == 1
    assert len(stored.status_history) == 1


async def test_of_many_racing_active_creations_of_one_pair_one_is_stored(
    relationships: TherapeuticRelationshipRepository,
    mongo_db: DatabaseManager,
) -> None:
    outcomes = await asyncio.gather(
        *(relationships.create(active_relationship()) for _ in range(6)),
        return_exceptions=True,
    )

    assert sum(isinstance(o, TherapeuticRelationship) for o in outcomes) == 1
    assert sum(isinstance(o, DuplicateError) for o in outcomes) == 5
    collection = mongo_db.collection(TherapeuticRelationship)
    assert await collection.count_documents({"relationship_status": "active"}) == 1


async def test_of_two_racing_endings_one_ends_and_one_is_refused(
    relationships: TherapeuticRelationshipRepository,
) -> None:
    record = await relationships.create(active_relationship())

    outcomes = await asyncio.gather(
        relationships.end_relationship(record.id, "Discharged by therapist"),
        relationships.end_relationship(record.id, "Patient withdrew"),
        return_exceptions=True,
    )

    ended = [o for o in outcomes if isinstance(o, TherapeuticRelationship)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(ended), len(refused)) == (1, 1)
    assert refused[0].rule == "invalid_transition"
    stored = await relationships.get(record.id)
    assert [s.to_status for s in stored.status_history] == [
        ACTIVE,
        RelationshipStatus.ENDED,
    ]


def _is_plan(outcome: object) -> bool:
    return isinstance(outcome, TreatmentPlan)


def _key(progress: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(progress.items()))
