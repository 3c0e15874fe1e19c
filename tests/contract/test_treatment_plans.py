"""The treatment-plan repository's contract, on both backends: creating plans,
phases and their history, goal progress reviews, outcome measures with change
since baseline, the PHQ-9 item 9 safety follow-up, and the plan queries."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.clinical_data import (
    GAD7_MODERATE,
    PATIENT,
    PHQ9_MINIMAL_WITH_ITEM9,
    THERAPIST,
    THERAPIST_CONTEXT,
    depression_plan,
)
from wellness_repo import (
    DatabaseManager,
    EncryptionAlgorithm,
    NotFoundError,
    ValidationError,
    acting_as,
)
from wellness_repo.analysis.instruments import (
    Instrument,
)
from wellness_repo.models.treatment_plans import (
    PHASE_TRANSITIONS,
    GoalStatus,
    PhaseChange,
    TreatmentGoal,
    TreatmentPhase,
    TreatmentPlan,
)
from wellness_repo.query.fields import resolve_path
from wellness_repo.repositories.clinical import TreatmentPlanRepository

Phase = TreatmentPhase
Repo = TreatmentPlanRepository
PHQ9 = Instrument.PHQ9
GAD7 = Instrument.GAD7
FORBIDDEN_PHASE_CHANGES = [
    (source, target)
    for source in Phase
    for target in Phase
    if target not in PHASE_TRANSITIONS[source]
]
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


async def stored_count(db: DatabaseManager) -> int:
    return int(await db.collection(TreatmentPlan).count_documents({}))


async def in_phase(plans: Repo, phase: Phase, **changes: Any) -> TreatmentPlan:
    """A stored plan brought to ``phase`` (completed through termination)."""
    if phase is not Phase.COMPLETED:
        return await plans.create(depression_plan(phase=phase, **changes))
    plan = await plans.create(depression_plan(phase=Phase.TERMINATION, **changes))
    return await plans.change_treatment_phase(plan.id, Phase.COMPLETED)


# ------------------------------------------------------------------ creating


async def test_the_seed_example_turns_goal_descriptions_into_numbered_goals(
    plans: Repo,
) -> None:
    plan = await plans.create(depression_plan())

    stored = await plans.get(plan.plan_id)
    assert [(g.goal_id, g.description) for g in stored.treatment_goals] == [
        ("goal_1", "Reduce depressive symptoms"),
        ("goal_2", "Improve coping skills"),
    ]
    assert {g.status for g in stored.treatment_goals} == {GoalStatus.NOT_STARTED}


async def test_goals_keep_their_measurable_targets_and_dates(plans: Repo) -> None:
    goal = TreatmentGoal(
        goal_id="sleep",
        description="Sleep at least six hours most nights",
        measurable_target="Sleep diary: 6h+ on 5 of 7 nights for 2 weeks",
        target_date=datetime(2024, 11, 1, tzinfo=UTC).date(),
    )

    plan = await plans.create(depression_plan(treatment_goals=[goal]))

    assert (await plans.get(plan.id)).treatment_goals == [goal]


async def test_a_new_plan_history_starts_with_who_created_it(plans: Repo) -> None:
    with acting_as(THERAPIST_CONTEXT):
        plan = await plans.create(depression_plan(phase=Phase.ASSESSMENT))

    (first,) = plan.phase_history
    assert (first.from_phase, first.to_phase, first.changed_by) == (
        None,
        Phase.ASSESSMENT,
        THERAPIST,
    )


async def test_the_diagnosis_code_is_stored_in_its_canonical_form(
    plans: Repo,
) -> None:
    plan = await plans.create(depression_plan(primary_diagnosis_code=" f41.1 "))

    assert (await plans.get(plan.id)).primary_diagnosis_code == "F41.1"


@pytest.mark.parametrize("code", ["F321", "depression", "F32.12345", "3F2.1", "QQ"])
async def test_a_malformed_icd10_code_is_refused_and_nothing_written(
    plans: Repo, db: DatabaseManager, code: str
) -> None:
    plan = await plans.create(depression_plan())
    before = await raw(db, plan.id)

    with pytest.raises(ValidationError) as refused:
        await plans.patch(plan.id, {"primary_diagnosis_code": code})

    assert (refused.value.field, refused.value.rule) == (
        "primary_diagnosis_code",
        "icd10_format",
    )
    assert code not in str(refused.value)
    assert await raw(db, plan.id) == before


async def test_a_plan_cannot_start_completed(plans: Repo, db: DatabaseManager) -> None:
    with pytest.raises(ValidationError) as refused:
        await plans.create(depression_plan(phase=Phase.COMPLETED))

    assert (refused.value.field, refused.value.rule) == ("phase", "initial_phase")
    assert await stored_count(db) == 0


async def test_a_phase_history_supplied_on_creation_is_refused(
    plans: Repo, db: DatabaseManager
) -> None:
    forged = PhaseChange(
        from_phase=Phase.PLANNING,
        to_phase=Phase.ACTIVE,
        changed_at=BASELINE_DAY,
        changed_by="someone_else",
    )

    with pytest.raises(ValidationError) as refused:
        await plans.create(depression_plan(phase_history=[forged]))

    assert (refused.value.field, refused.value.rule) == (
        "phase_history",
        "managed_field",
    )
    assert await stored_count(db) == 0


async def test_create_many_gives_each_plan_its_history(plans: Repo) -> None:
    created = await plans.create_many(
        [depression_plan(patient_id=f"patient_{n}") for n in range(3)]
    )

    assert [len(p.phase_history) for p in created] == [1, 1, 1]


async def test_create_many_with_one_completed_plan_writes_none(
    plans: Repo, db: DatabaseManager
) -> None:
    with pytest.raises(ValidationError):
        await plans.create_many(
            [depression_plan(), depression_plan(phase=Phase.COMPLETED)]
        )

    assert await stored_count(db) == 0


def test_clinical_free_text_of_a_plan_is_declared_encrypted() -> None:
    paths = [
        ("primary_diagnosis",),
        ("treatment_goals", "description"),
        ("treatment_goals", "measurable_target"),
        ("phase_history", "notes"),
        ("progress_history", "phase_notes"),
        ("outcome_measures", "item_responses"),
        ("outcome_measures", "notes"),
        ("outcome_measures", "safety_follow_up_notes"),
    ]

    markers = [resolve_path(TreatmentPlan, path).encryption for path in paths]

    assert all(m is not None and not m.queryable for m in markers)
    code = resolve_path(TreatmentPlan, ("primary_diagnosis_code",)).encryption
    assert code is not None
    assert code.algorithm is EncryptionAlgorithm.DETERMINISTIC


# ------------------------------------------------------------------- phases


async def test_changing_phase_records_who_when_from_and_to(plans: Repo) -> None:
    plan = await plans.create(depression_plan(phase=Phase.ACTIVE))

    with acting_as(THERAPIST_CONTEXT):
        moved = await plans.change_treatment_phase(
            plan.id, Phase.MAINTENANCE, "PHQ-9 below 10 at two reviews"
        )

    assert moved.phase is Phase.MAINTENANCE
    step = moved.phase_history[-1]
    assert (step.from_phase, step.to_phase, step.changed_by, step.notes) == (
        Phase.ACTIVE,
        Phase.MAINTENANCE,
        THERAPIST,
        "PHQ-9 below 10 at two reviews",
    )


async def test_a_plan_goes_through_its_whole_course(plans: Repo) -> None:
    plan = await plans.create(depression_plan(phase=Phase.ASSESSMENT))
    course = [
        Phase.PLANNING,
        Phase.ACTIVE,
        Phase.MAINTENANCE,
        Phase.ACTIVE,
        Phase.TERMINATION,
        Phase.COMPLETED,
    ]

    for phase in course:
        plan = await plans.change_treatment_phase(plan.id, phase.value)

    assert [s.to_phase for s in plan.phase_history] == [Phase.ASSESSMENT, *course]


@pytest.mark.parametrize(("source", "target"), FORBIDDEN_PHASE_CHANGES)
async def test_a_phase_change_the_course_forbids_is_refused_and_writes_nothing(
    plans: Repo, db: DatabaseManager, source: Phase, target: Phase
) -> None:
    plan = await in_phase(plans, source)
    before = await raw(db, plan.id)

    with pytest.raises(ValidationError) as refused:
        await plans.change_treatment_phase(plan.id, target)

    assert (refused.value.field, refused.value.rule) == (
        "phase",
        "invalid_transition",
    )
    assert await raw(db, plan.id) == before


async def test_an_unknown_phase_is_refused(plans: Repo) -> None:
    plan = await plans.create(depression_plan())

    with pytest.raises(ValidationError) as refused:
        await plans.change_treatment_phase(plan.id, "finished")

    assert (refused.value.field, refused.value.rule) == ("phase", "enum")


async def test_a_plan_with_an_open_safety_follow_up_cannot_be_completed(
    plans: Repo, db: DatabaseManager
) -> None:
    plan = await plans.create(depression_plan(phase=Phase.TERMINATION))
    await plans.record_outcome_measure(plan.id, PHQ9, PHQ9_MINIMAL_WITH_ITEM9)
    before = await raw(db, plan.id)

    with pytest.raises(ValidationError) as refused:
        await plans.change_treatment_phase(plan.id, Phase.COMPLETED)

    assert (refused.value.field, refused.value.rule) == (
        "phase",
        "safety_follow_up_open",
    )
    assert await raw(db, plan.id) == before


# ----------------------------------------------------------------- progress


async def test_the_seed_progress_review_updates_goals_and_history(
    plans: Repo,
) -> None:
    plan = await plans.create(depression_plan())

    with acting_as(THERAPIST_CONTEXT):
        reviewed = await plans.update_treatment_progress(
            plan_id=plan.plan_id,
            goals_progress={"goal_1": 75, "goal_2": 60},
            phase_notes="Good progress on cognitive techniques",
        )

    assert [g.progress for g in reviewed.treatment_goals] == [75, 60]
    (entry,) = reviewed.progress_history
    assert entry.goals_progress == {"goal_1": 75, "goal_2": 60}
    assert (entry.recorded_by, entry.phase, entry.phase_notes) == (
        THERAPIST,
        Phase.ACTIVE,
        "Good progress on cognitive techniques",
    )
    assert await plans.get(plan.id) == reviewed


@pytest.mark.parametrize(
    ("progress", "status"),
    [
        (0, GoalStatus.NOT_STARTED),
        (1, GoalStatus.IN_PROGRESS),
        (99, GoalStatus.IN_PROGRESS),
        (100, GoalStatus.ACHIEVED),
    ],
)
async def test_a_goals_status_follows_its_recorded_progress(
    plans: Repo, progress: int, status: GoalStatus
) -> None:
    plan = await plans.create(depression_plan())

    reviewed = await plans.update_treatment_progress(plan.id, {"goal_2": progress})

    assert reviewed.treatment_goals[1].status is status
    assert reviewed.treatment_goals[0].progress == 0


async def test_successive_reviews_are_all_kept_in_order(plans: Repo) -> None:
    plan = await plans.create(depression_plan())

    await plans.update_treatment_progress(plan.id, {"goal_1": 20})
    await plans.update_treatment_progress(plan.id, {"goal_1": 45, "goal_2": 10})
    reviewed = await plans.update_treatment_progress(plan.id, {}, "Missed session")

    assert [e.goals_progress for e in reviewed.progress_history] == [
        {"goal_1": 20},
        {"goal_1": 45, "goal_2": 10},
        {},
    ]
    assert [g.progress for g in reviewed.treatment_goals] == [45, 10]


@pytest.mark.parametrize(
    ("goals_progress", "field", "rule"),
    [
        ({"goal_9": 50}, "goals_progress.goal_9", "unknown_goal"),
        ({"goal_1": 50, "goal_9": 50}, "goals_progress.goal_9", "unknown_goal"),
        ({"goal_1": 101}, "goals_progress.goal_1", "range"),
        ({"goal_2": -5}, "goals_progress.goal_2", "range"),
        ({"goal_1": "75"}, "goals_progress.goal_1", "type"),
        ({"goal_1": 75.5}, "goals_progress.goal_1", "type"),
        ({"goal_1": True}, "goals_progress.goal_1", "type"),
        ({"goal_1": None}, "goals_progress.goal_1", "type"),
        ({1: 50}, "goals_progress", "type"),
        ([("goal_1", 50)], "goals_progress", "type"),
        ({}, "goals_progress", "required"),
    ],
)
async def test_a_bad_progress_review_is_refused_naming_the_goal_and_rule(
    plans: Repo,
    db: DatabaseManager,
    goals_progress: Any,
    field: str,
    rule: str,
) -> None:
    plan = await plans.create(depression_plan())
    before = await raw(db, plan.id)

    with pytest.raises(ValidationError) as refused:
        await plans.update_treatment_progress(plan.id, goals_progress)

    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert await raw(db, plan.id) == before


async def test_overlong_phase_notes_are_refused(plans: Repo) -> None:
    plan = await plans.create(depression_plan())

    with pytest.raises(ValidationError) as refused:
        await plans.update_treatment_progress(plan.id, {"goal_1": 10}, "x" * 10_001)

    assert (refused.value.field, refused.value.rule) == ("phase_notes", "max_length")


async def test_a_discontinued_goal_takes_no_progress(
    plans: Repo, db: DatabaseManager
) -> None:
    plan = await plans.create(depression_plan())
    plan.treatment_goals[1].status = GoalStatus.DISCONTINUED
    plan = await plans.update(plan)
    before = await raw(db, plan.id)

    with pytest.raises(ValidationError) as refused:
        await plans.update_treatment_progress(plan.id, {"goal_2": 30})

    assert (refused.value.field, refused.value.rule) == (
        "goals_progress.goal_2",
        "goal_discontinued",
    )
    assert await raw(db, plan.id) == before


async def test_a_completed_plan_takes_no_more_progress_reviews(
    plans: Repo, db: DatabaseManager
) -> None:
    plan = await in_phase(plans, Phase.COMPLETED)
    before = await raw(db, plan.id)

    with pytest.raises(ValidationError) as refused:
        await plans.update_treatment_progress(plan.id, {"goal_1": 100})

    assert (refused.value.field, refused.value.rule) == ("phase", "plan_completed")
    assert await raw(db, plan.id) == before


async def test_reviewing_an_unknown_plan_is_not_found(plans: Repo) -> None:
    with pytest.raises(NotFoundError):
        await plans.update_treatment_progress("no_such_plan", {"goal_1": 10})


# --------------------------------------------------------- plain updates


async def test_update_may_add_a_goal_and_edit_interventions(plans: Repo) -> None:
    plan = await plans.create(depression_plan())
    plan.treatment_goals = [
        *plan.treatment_goals,
        TreatmentGoal(goal_id="goal_3", description="Return to part-time work"),
    ]
    plan.interventions = [*plan.interventions, "Graded exposure"]

    await plans.update(plan)

    stored = await plans.get(plan.id)
    assert [g.goal_id for g in stored.treatment_goals] == ["goal_1", "goal_2", "goal_3"]
    assert stored.interventions[-1] == "Graded exposure"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phase": Phase.MAINTENANCE}, "phase"),
        ({"phase_history": []}, "phase_history"),
        ({"safety_follow_up_required": False}, "safety_follow_up_required"),
    ],
)
async def test_patch_cannot_change_what_the_clinical_acts_own(
    plans: Repo, db: DatabaseManager, changes: dict[str, Any], field: str
) -> None:
    plan = await plans.create(depression_plan())
    await plans.record_outcome_measure(plan.id, PHQ9, PHQ9_MINIMAL_WITH_ITEM9)
    before = await raw(db, plan.id)

    with pytest.raises(ValidationError) as refused:
        await plans.patch(plan.id, changes)

    assert (refused.value.field, refused.value.rule) in (
        (field, "managed_field"),
        # Clearing the flag while a follow-up is open also breaks the model.
        (field, "inconsistent_safety_flag"),
    )
    assert await raw(db, plan.id) == before


async def test_update_cannot_set_a_goals_progress(
    plans: Repo, db: DatabaseManager
) -> None:
    plan = await plans.create(depression_plan())
    before = await raw(db, plan.id)
    plan.treatment_goals[0].progress = 90

    with pytest.raises(ValidationError) as refused:
        await plans.update(plan)

    assert (refused.value.field, refused.value.rule) == (
        "treatment_goals.goal_1.progress",
        "managed_field",
    )
    assert await raw(db, plan.id) == before


async def test_update_cannot_mark_a_goal_achieved_that_its_progress_does_not_reach(
    plans: Repo, db: DatabaseManager
) -> None:
    plan = await plans.create(depression_plan())
    before = await raw(db, plan.id)
    plan.treatment_goals[0].status = GoalStatus.ACHIEVED

    with pytest.raises(ValidationError) as refused:
        await plans.update(plan)

    assert (refused.value.field, refused.value.rule) == (
        "treatment_goals.goal_1.status",
        "managed_field",
    )
    assert await raw(db, plan.id) == before


async def test_update_may_discontinue_a_goal(plans: Repo) -> None:
    plan = await plans.create(depression_plan())
    plan.treatment_goals[0].status = GoalStatus.DISCONTINUED

    updated = await plans.update(plan)

    assert updated.treatment_goals[0].status is GoalStatus.DISCONTINUED


async def test_update_cannot_remove_outcome_measures(plans: Repo) -> None:
    plan = await plans.create(depression_plan())
    await plans.record_outcome_measure(plan.id, GAD7, GAD7_MODERATE)
    plan = await plans.get(plan.id)
    plan.outcome_measures = []

    with pytest.raises(ValidationError) as refused:
        await plans.update(plan)

    assert (refused.value.field, refused.value.rule) == (
        "outcome_measures",
        "managed_field",
    )


# ------------------------------------------------------------------ queries


async def test_a_patients_open_plans_come_newest_first(plans: Repo) -> None:
    older = await plans.create(
        depression_plan(created_at=BASELINE_DAY, plan_name="CBT for Depression")
    )
    newer = await plans.create(
        depression_plan(
            created_at=BASELINE_DAY + timedelta(days=30), plan_name="Relapse plan"
        )
    )
    completed = await in_phase(plans, Phase.COMPLETED)
    await plans.create(depression_plan(patient_id="patient_999"))

    open_plans = await plans.plans_for_patient(PATIENT)
    every_plan = await plans.plans_for_patient(PATIENT, include_completed=True)

    assert [p.id for p in open_plans] == [newer.id, older.id]
    assert {p.id for p in every_plan} == {older.id, newer.id, completed.id}


@pytest.mark.parametrize(
    "query", ["plans_for_patient", "plans_needing_safety_follow_up"]
)
async def test_plan_queries_refuse_a_missing_person_id(plans: Repo, query: str) -> None:
    with pytest.raises(ValidationError) as refused:
        await getattr(plans, query)("")

    assert refused.value.rule == "required"


# ---------------------------------------------------------------- privacy


async def test_notes_and_goal_text_never_reach_the_logs(
    plans: Repo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "mentioned her brother's overdose"

    plan = await plans.create(depression_plan(treatment_goals=[secret]))
    await plans.update_treatment_progress(plan.id, {"goal_1": 30}, secret)
    await plans.change_treatment_phase(plan.id, Phase.MAINTENANCE, secret)
    measure = await plans.record_outcome_measure(
        plan.id, PHQ9, PHQ9_MINIMAL_WITH_ITEM9, notes=secret
    )
    await plans.record_safety_follow_up(plan.id, measure.measure_id, secret)
    with pytest.raises(ValidationError):
        await plans.update_treatment_progress(plan.id, {"goal_9": 30}, secret)

    assert caplog.records
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "overdose" not in logged
    assert PATIENT not in logged
