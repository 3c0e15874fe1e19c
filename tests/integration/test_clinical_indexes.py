"""Every query the therapeutic-relationship and treatment-plan repositories send
is served by an index on the real server over seeded data: no collection scan,
no unbounded in-memory sort."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta

from tests.conftest import SYSTEM
from tests.support.clinical_data import (
    PHQ9_MILD,
    PHQ9_MINIMAL_WITH_ITEM9,
    active_relationship,
    depression_plan,
    relationship,
)
from tests.support.explain import CommandRecorder, unindexed_stages
from tests.support.models import TEST_MODELS
from wellness_repo import DatabaseManager, Settings, connect
from wellness_repo.analysis.instruments import Instrument
from wellness_repo.models.clinical import TherapeuticRelationship
from wellness_repo.models.treatment_plans import TreatmentPhase, TreatmentPlan
from wellness_repo.repositories.clinical import (
    TherapeuticRelationshipRepository,
    TreatmentPlanRepository,
)

THERAPISTS = [f"therapist_{number:02d}" for number in range(6)]
PATIENTS = [f"patient_{number:03d}" for number in range(120)]
SEEDED_FROM = datetime(2024, 1, 1, tzinfo=UTC)


@asynccontextmanager
async def recorded_small_page_database(
    uri: str,
) -> AsyncIterator[tuple[DatabaseManager, CommandRecorder]]:
    """A fresh real-server database recording its commands, with pages of five,
    so the queries that page through a caseload send their later pages too."""
    recorder = CommandRecorder()
    manager = await connect(
        uri,
        f"explain_{uuid.uuid4().hex[:12]}",
        context=SYSTEM,
        settings=Settings(max_page_size=5),
        document_models=TEST_MODELS,
        apply_indexes=True,
        driver_options={"event_listeners": [recorder]},
    )
    try:
        yield manager, recorder
    finally:
        await manager.client.drop_database(manager.database_name)
        await manager.close()


async def seed_relationships(repo: TherapeuticRelationshipRepository) -> None:
    """Twenty relationships per therapist in every status, over the year."""
    records: list[TherapeuticRelationship] = []
    for index, patient in enumerate(PATIENTS):
        therapist = THERAPISTS[(index // 4) % len(THERAPISTS)]
        start = date(2024, 1, 1) + timedelta(days=index % 200)
        if index % 4 == 3:
            records.append(relationship(patient_id=patient, therapist_id=therapist))
        else:
            records.append(
                active_relationship(
                    patient_id=patient, therapist_id=therapist, start_date=start
                )
            )
    stored = await repo.create_many(records)
    for index, record in enumerate(stored):
        if index % 4 == 1:
            await repo.pause(record.id, "Inpatient admission")
        elif index % 4 == 2 and index % 8 == 2:
            await repo.end_relationship(record.id, "Discharged")


async def seed_plans(repo: TreatmentPlanRepository) -> list[TreatmentPlan]:
    """Two plans per patient, one in three completed, some with safety flags."""
    plans = [
        depression_plan(
            patient_id=patient,
            therapist_id=THERAPISTS[index % len(THERAPISTS)],
            created_at=SEEDED_FROM + timedelta(days=index % 90, hours=copy),
            phase=(
                TreatmentPhase.TERMINATION if index % 3 == 0 else TreatmentPhase.ACTIVE
            ),
        )
        for index, patient in enumerate(PATIENTS)
        for copy in range(2)
    ]
    stored = await repo.create_many(plans)
    for index, plan in enumerate(stored[:60]):
        answers = PHQ9_MINIMAL_WITH_ITEM9 if index % 5 == 0 else PHQ9_MILD
        await repo.record_outcome_measure(plan.id, Instrument.PHQ9, answers)
        if plan.phase is TreatmentPhase.TERMINATION and index % 5 != 0:
            await repo.change_treatment_phase(plan.id, TreatmentPhase.COMPLETED)
    return stored


async def test_relationship_queries_never_scan_or_sort_in_memory(
    mongodb_uri: str,
) -> None:
    async with recorded_small_page_database(mongodb_uri) as (db, recorder):
        relationships = TherapeuticRelationshipRepository(db)
        await seed_relationships(relationships)
        recorder.recording = True

        caseload = await relationships.active_relationships_for_therapist(THERAPISTS[3])
        await relationships.active_relationships_for_patient(PATIENTS[4])
        await relationships.caseload_size(THERAPISTS[3])
        recorder.recording = False

        assert len(caseload) > 5, "the caseload should span more than one page"
        assert len(recorder.commands) >= 4
        for command in recorder.commands:
            assert await unindexed_stages(db, command) == [], command


async def test_relationship_acts_find_their_record_by_id(mongodb_uri: str) -> None:
    async with recorded_small_page_database(mongodb_uri) as (db, recorder):
        relationships = TherapeuticRelationshipRepository(db)
        await seed_relationships(relationships)
        pending = await relationships.create(relationship(patient_id="patient_new"))
        recorder.recording = True

        await relationships.activate(pending.id)
        await relationships.pause(pending.id, "Surgery recovery")
        await relationships.end_relationship(pending.id, "Moved abroad")
        recorder.recording = False

        assert len(recorder.commands) >= 6
        for command in recorder.commands:
            assert await unindexed_stages(db, command) == [], command


async def test_plan_queries_never_scan_or_sort_in_memory(mongodb_uri: str) -> None:
    async with recorded_small_page_database(mongodb_uri) as (db, recorder):
        plans = TreatmentPlanRepository(db)
        stored = await seed_plans(plans)
        recorder.recording = True

        await plans.plans_for_patient(PATIENTS[0])
        await plans.plans_for_patient(PATIENTS[0], include_completed=True)
        flagged = await plans.plans_needing_safety_follow_up(THERAPISTS[0])
        await plans.outcome_trajectory(stored[0].id, Instrument.PHQ9)
        recorder.recording = False

        assert flagged, "the seeded data should hold an open safety follow-up"
        assert len(recorder.commands) >= 4
        for command in recorder.commands:
            assert await unindexed_stages(db, command) == [], command


async def test_plan_acts_find_their_record_by_id(mongodb_uri: str) -> None:
    async with recorded_small_page_database(mongodb_uri) as (db, recorder):
        plans = TreatmentPlanRepository(db)
        stored = await seed_plans(plans)
        plan = stored[-1]
        recorder.recording = True

        await plans.update_treatment_progress(plan.id, {"goal_1": 30})
        measure = await plans.record_outcome_measure(
            plan.id, Instrument.PHQ9, PHQ9_MINIMAL_WITH_ITEM9
        )
        await plans.record_safety_follow_up(plan.id, measure.measure_id, "Reviewed")
        await plans.change_treatment_phase(plan.id, TreatmentPhase.MAINTENANCE)
        recorder.recording = False

        assert len(recorder.commands) >= 8
        for command in recorder.commands:
            assert await unindexed_stages(db, command) == [], command
