"""The treatment-plan repository's outcome measurement, on both backends: PHQ-9
and GAD-7 scored against the plan's baseline with reliable change, the PHQ-9
item 9 safety flag and its follow-up, and the bad questionnaires refused."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.clinical_data import (
    GAD7_MODERATE,
    OTHER_THERAPIST,
    PHQ9_MILD,
    PHQ9_MINIMAL_WITH_ITEM9,
    PHQ9_MODERATELY_SEVERE,
    THERAPIST,
    THERAPIST_CONTEXT,
    depression_plan,
)
from wellness_repo import (
    DatabaseManager,
    NotFoundError,
    ValidationError,
    acting_as,
)
from wellness_repo.analysis.instruments import (
    Instrument,
    ReliableChange,
    SeverityBand,
)
from wellness_repo.models.treatment_plans import TreatmentPlan
from wellness_repo.repositories.clinical import TreatmentPlanRepository

Repo = TreatmentPlanRepository
PHQ9 = Instrument.PHQ9
GAD7 = Instrument.GAD7
BASELINE_DAY = datetime(2024, 9, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def plans(db: DatabaseManager) -> Repo:
    return TreatmentPlanRepository(db)


async def raw(db: DatabaseManager, plan_id: str) -> dict[str, Any] | None:
    """The stored document as it is, bypassing the repository."""
    found: dict[str, Any] | None = await db.collection(TreatmentPlan).find_one(
        {"_id": plan_id}
    )
    return found


async def test_the_first_measure_is_the_baseline(plans: Repo) -> None:
    plan = await plans.create(depression_plan())

    with acting_as(THERAPIST_CONTEXT):
        measure = await plans.record_outcome_measure(
            plan.id, "PHQ-9", PHQ9_MODERATELY_SEVERE, administered_at=BASELINE_DAY
        )

    assert (measure.total_score, measure.severity) == (
        16,
        SeverityBand.MODERATELY_SEVERE,
    )
    assert (measure.change_from_baseline, measure.reliable_change) == (None, None)
    assert (measure.recorded_by, measure.administered_at) == (THERAPIST, BASELINE_DAY)
    assert (await plans.get(plan.id)).outcome_measures == [measure]


async def test_a_later_measure_reports_reliable_improvement_from_baseline(
    plans: Repo,
) -> None:
    plan = await plans.create(depression_plan())
    await plans.record_outcome_measure(
        plan.id, PHQ9, PHQ9_MODERATELY_SEVERE, administered_at=BASELINE_DAY
    )

    later = await plans.record_outcome_measure(
        plan.id, PHQ9, PHQ9_MILD, administered_at=BASELINE_DAY + timedelta(weeks=8)
    )

    assert (later.total_score, later.severity) == (7, SeverityBand.MILD)
    assert later.change_from_baseline == -9
    assert later.reliable_change is ReliableChange.IMPROVEMENT


@pytest.mark.parametrize(
    ("baseline", "later", "expected"),
    [
        ([2, 2, 2, 2, 2, 2, 2, 1, 0], [2, 2, 2, 1, 1, 1, 0, 0, 0], "improvement"),
        ([2, 2, 2, 2, 2, 2, 2, 1, 0], [2, 2, 2, 2, 1, 1, 0, 0, 0], "none"),
        ([1, 1, 1, 1, 1, 1, 0, 0, 0], [2, 2, 2, 2, 2, 2, 0, 0, 0], "deterioration"),
        ([1, 1, 1, 1, 1, 1, 0, 0, 0], [2, 2, 2, 2, 2, 1, 0, 0, 0], "none"),
    ],
)
async def test_phq9_reliable_change_boundary_is_six_points(
    plans: Repo, baseline: list[int], later: list[int], expected: str
) -> None:
    plan = await plans.create(depression_plan())
    await plans.record_outcome_measure(
        plan.id, PHQ9, baseline, administered_at=BASELINE_DAY
    )

    measure = await plans.record_outcome_measure(plan.id, PHQ9, later)

    assert abs(measure.change_from_baseline or 0) in (5, 6)
    assert (
        measure.reliable_change
        is {
            "improvement": ReliableChange.IMPROVEMENT,
            "deterioration": ReliableChange.DETERIORATION,
            "none": ReliableChange.NO_RELIABLE_CHANGE,
        }[expected]
    )


async def test_each_instrument_has_its_own_baseline(plans: Repo) -> None:
    plan = await plans.create(depression_plan())
    await plans.record_outcome_measure(
        plan.id, PHQ9, PHQ9_MODERATELY_SEVERE, administered_at=BASELINE_DAY
    )

    anxiety = await plans.record_outcome_measure(plan.id, GAD7, GAD7_MODERATE)

    assert (anxiety.total_score, anxiety.severity) == (12, SeverityBand.MODERATE)
    assert anxiety.change_from_baseline is None


async def test_a_gad7_fall_of_four_points_is_reliable_improvement(
    plans: Repo,
) -> None:
    plan = await plans.create(depression_plan())
    await plans.record_outcome_measure(
        plan.id, GAD7, GAD7_MODERATE, administered_at=BASELINE_DAY
    )

    later = await plans.record_outcome_measure(plan.id, GAD7, [1, 1, 1, 2, 2, 1, 0])

    assert (later.change_from_baseline, later.reliable_change) == (
        -4,
        ReliableChange.IMPROVEMENT,
    )


async def test_phq9_item9_above_zero_flags_measure_and_plan_whatever_the_total(
    plans: Repo, db: DatabaseManager
) -> None:
    plan = await plans.create(depression_plan())

    measure = await plans.record_outcome_measure(plan.id, PHQ9, PHQ9_MINIMAL_WITH_ITEM9)

    assert measure.severity is SeverityBand.MINIMAL
    stored = await raw(db, plan.id)
    assert stored is not None
    assert stored["safety_follow_up_required"] is True
    (flagged,) = stored["outcome_measures"]
    assert flagged["requires_safety_follow_up"] is True
    assert flagged["positive_safety_items"] == [9]


async def test_a_positive_item9_is_logged_as_a_warning_by_ids_only(
    plans: Repo, caplog: pytest.LogCaptureFixture
) -> None:
    plan = await plans.create(depression_plan())

    with caplog.at_level(logging.WARNING):
        measure = await plans.record_outcome_measure(
            plan.id, PHQ9, PHQ9_MINIMAL_WITH_ITEM9
        )

    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert plan.id in warning.getMessage()
    assert measure.measure_id in warning.getMessage()


async def test_recording_the_safety_follow_up_clears_the_plan_flag(
    plans: Repo,
) -> None:
    plan = await plans.create(depression_plan())
    flagged = await plans.record_outcome_measure(plan.id, PHQ9, PHQ9_MINIMAL_WITH_ITEM9)

    with acting_as(THERAPIST_CONTEXT):
        followed = await plans.record_safety_follow_up(
            plan.id, flagged.measure_id, "Risk assessed: passive ideation, no plan"
        )

    assert followed.safety_follow_up_required is False
    (measure,) = followed.outcome_measures
    assert measure.requires_safety_follow_up is True
    assert (measure.safety_follow_up_by, measure.safety_follow_up_notes) == (
        THERAPIST,
        "Risk assessed: passive ideation, no plan",
    )
    assert measure.safety_follow_up_at is not None


async def test_the_plan_flag_stays_up_while_another_follow_up_is_open(
    plans: Repo,
) -> None:
    plan = await plans.create(depression_plan())
    first = await plans.record_outcome_measure(plan.id, PHQ9, PHQ9_MINIMAL_WITH_ITEM9)
    await plans.record_outcome_measure(plan.id, PHQ9, PHQ9_MINIMAL_WITH_ITEM9)

    followed = await plans.record_safety_follow_up(
        plan.id, first.measure_id, "Safety plan reviewed"
    )

    assert followed.safety_follow_up_required is True


@pytest.mark.parametrize(
    ("instrument", "responses", "field", "rule"),
    [
        ("BDI-II", PHQ9_MILD, "instrument", "unknown_instrument"),
        (PHQ9, [1] * 8, "item_responses", "item_count"),
        (GAD7, PHQ9_MILD, "item_responses", "item_count"),
        (PHQ9, [1, 1, 1, 1, 1, 1, 1, 1, 4], "item_responses.item_9", "range"),
        (GAD7, [1, -1, 1, 1, 1, 1, 1], "item_responses.item_2", "range"),
        (GAD7, [1, 1, 1, 1, 1, 1, "3"], "item_responses.item_7", "type"),
    ],
)
async def test_a_bad_questionnaire_is_refused_naming_the_item_and_rule(
    plans: Repo,
    db: DatabaseManager,
    instrument: Any,
    responses: Any,
    field: str,
    rule: str,
) -> None:
    plan = await plans.create(depression_plan())
    before = await raw(db, plan.id)

    with pytest.raises(ValidationError) as refused:
        await plans.record_outcome_measure(plan.id, instrument, responses)

    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert await raw(db, plan.id) == before


@pytest.mark.parametrize(
    ("administered_at", "rule"),
    [
        (datetime(2024, 9, 2, 10, 0), "timezone_required"),
        (datetime.now(UTC) + timedelta(days=1), "future"),
        ("2024-09-02T10:00:00Z", "type"),
    ],
)
async def test_a_bad_administration_time_is_refused(
    plans: Repo, db: DatabaseManager, administered_at: Any, rule: str
) -> None:
    plan = await plans.create(depression_plan())
    before = await raw(db, plan.id)

    with pytest.raises(ValidationError) as refused:
        await plans.record_outcome_measure(
            plan.id, PHQ9, PHQ9_MILD, administered_at=administered_at
        )

    assert (refused.value.field, refused.value.rule) == ("administered_at", rule)
    assert await raw(db, plan.id) == before


async def test_a_measure_dated_before_the_baseline_is_refused(
    plans: Repo, db: DatabaseManager
) -> None:
    plan = await plans.create(depression_plan())
    await plans.record_outcome_measure(
        plan.id, PHQ9, PHQ9_MODERATELY_SEVERE, administered_at=BASELINE_DAY
    )
    before = await raw(db, plan.id)

    with pytest.raises(ValidationError) as refused:
        await plans.record_outcome_measure(
            plan.id, PHQ9, PHQ9_MILD, administered_at=BASELINE_DAY - timedelta(days=1)
        )

    assert (refused.value.field, refused.value.rule) == (
        "administered_at",
        "before_baseline",
    )
    assert await raw(db, plan.id) == before


async def test_measuring_against_an_unknown_plan_is_not_found(plans: Repo) -> None:
    with pytest.raises(NotFoundError):
        await plans.record_outcome_measure("no_such_plan", PHQ9, PHQ9_MILD)


@pytest.mark.parametrize(
    ("which", "notes", "field", "rule"),
    [
        ("flagged", "", "notes", "required"),
        ("flagged", None, "notes", "required"),
        ("unknown", "Risk assessed", "measure_id", "unknown_measure"),
        ("unflagged", "Risk assessed", "measure_id", "no_follow_up_open"),
        ("followed", "Risk assessed again", "measure_id", "no_follow_up_open"),
    ],
)
async def test_a_bad_safety_follow_up_is_refused_and_writes_nothing(
    plans: Repo,
    db: DatabaseManager,
    which: str,
    notes: Any,
    field: str,
    rule: str,
) -> None:
    plan = await plans.create(depression_plan())
    flagged = await plans.record_outcome_measure(plan.id, PHQ9, PHQ9_MINIMAL_WITH_ITEM9)
    unflagged = await plans.record_outcome_measure(plan.id, PHQ9, PHQ9_MILD)
    await plans.record_outcome_measure(plan.id, PHQ9, PHQ9_MINIMAL_WITH_ITEM9)
    await plans.record_safety_follow_up(plan.id, flagged.measure_id, "Safety plan")
    measure_ids = {
        "flagged": (await plans.get(plan.id)).outcome_measures[2].measure_id,
        "unknown": "no_such_measure",
        "unflagged": unflagged.measure_id,
        "followed": flagged.measure_id,
    }
    before = await raw(db, plan.id)

    with pytest.raises(ValidationError) as refused:
        await plans.record_safety_follow_up(plan.id, measure_ids[which], notes)

    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert await raw(db, plan.id) == before


async def test_an_outcome_trajectory_runs_from_baseline_in_time_order(
    plans: Repo,
) -> None:
    plan = await plans.create(depression_plan())
    for weeks, answers in [(0, PHQ9_MODERATELY_SEVERE), (8, PHQ9_MILD), (4, [1] * 9)]:
        await plans.record_outcome_measure(
            plan.id,
            PHQ9,
            answers,
            administered_at=BASELINE_DAY + timedelta(weeks=weeks),
        )
    await plans.record_outcome_measure(plan.id, GAD7, GAD7_MODERATE)

    trajectory = await plans.outcome_trajectory(plan.id, "phq9")

    assert [m.total_score for m in trajectory] == [16, 9, 7]
    assert [m.change_from_baseline for m in trajectory] == [None, -7, -9]


async def test_a_therapist_sees_only_their_plans_needing_safety_follow_up(
    plans: Repo,
) -> None:
    flagged = await plans.create(depression_plan())
    await plans.record_outcome_measure(flagged.id, PHQ9, PHQ9_MINIMAL_WITH_ITEM9)
    followed = await plans.create(depression_plan(patient_id="patient_2"))
    measure = await plans.record_outcome_measure(
        followed.id, PHQ9, PHQ9_MINIMAL_WITH_ITEM9
    )
    await plans.record_safety_follow_up(followed.id, measure.measure_id, "Done")
    await plans.create(depression_plan(patient_id="patient_3"))
    colleague = await plans.create(depression_plan(therapist_id=OTHER_THERAPIST))
    await plans.record_outcome_measure(colleague.id, PHQ9, PHQ9_MINIMAL_WITH_ITEM9)

    found = await plans.plans_needing_safety_follow_up(THERAPIST)

    assert [p.id for p in found] == [flagged.id]


async def test_an_unknown_instrument_trajectory_is_refused(plans: Repo) -> None:
    plan = await plans.create(depression_plan())

    with pytest.raises(ValidationError) as refused:
        await plans.outcome_trajectory(plan.id, "HAM-D")

    assert refused.value.field == "instrument"
