"""Every query and guarded write the crisis and safety-plan repositories send is
served by an index on the real server over a seeded caseload: no collection
scan, no in-memory sort across many records, no index walked end to end."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.support.crisis_data import (
    CRISIS_TEAM,
    ESCALATION_REASON,
    RESOLUTION_NOTE,
    THERAPIST,
    assessment,
    closed_detection,
    detected_ago,
)
from tests.support.explain import plan_stages, recorded_database, unindexed_stages
from tests.support.safety_plan_data import seed_plan
from wellness_repo import DatabaseManager
from wellness_repo.analysis.crisis_language import CrisisSeverity, CrisisType
from wellness_repo.models.care import CareTeam
from wellness_repo.repositories.care_teams import CareTeamRepository
from wellness_repo.repositories.crisis import CrisisDetectionRepository
from wellness_repo.repositories.safety_plans import SafetyPlanRepository

pytestmark = pytest.mark.integration

PATIENTS = [f"patient_{number:03d}" for number in range(40)]
CLINICIANS = [f"therapist_{number:03d}" for number in range(12)]
SEVERITIES = list(CrisisSeverity)
TYPES = [CrisisType.SUICIDAL_IDEATION, CrisisType.SELF_HARM, CrisisType.HOPELESSNESS]


async def scan_problems(db: DatabaseManager, command: dict[str, Any]) -> list[str]:
    """What makes a command's cost grow with the collection: a collection scan,
    an unpinned in-memory sort, or an index walked end to end."""
    found = await unindexed_stages(db, command)
    explained = await db.database.command(
        {"explain": command, "verbosity": "queryPlanner"}
    )
    for stage in plan_stages(explained):
        if stage["stage"] == "IXSCAN":
            leading = next(iter(stage["keyPattern"]))
            if stage["indexBounds"][leading] == ["[MinKey, MaxKey]"]:
                found.append(f"IXSCAN {stage['indexName']} end to end")
    return found


def describe(problems: list[tuple[dict[str, Any], list[str]]]) -> str:
    """One line per command with a problem: the command's target, its filter
    and what was wrong."""
    lines = []
    for command, found in problems:
        if found:
            name, target = next(iter(command.items()))
            where = (
                command.get("filter") or command.get("query") or command.get("pipeline")
            )
            lines.append(f"{name} {target} {where}: {found}")
    return "\n".join(lines)


async def seed_detections(db: DatabaseManager) -> None:
    """Four detections per patient across types, severities and every state,
    with their alerts."""
    crises = CrisisDetectionRepository(db)
    for index, patient in enumerate(PATIENTS):
        clinician = CLINICIANS[index % len(CLINICIANS)]
        await crises.create(
            closed_detection().model_copy(update={"patient_id": patient})
        )
        for offset, crisis_type in enumerate(TYPES):
            detection = await crises.create(
                detected_ago(
                    timedelta(minutes=7 * (index + offset)),
                    patient_id=patient,
                    crisis_type=crisis_type,
                    severity_level=SEVERITIES[(index + offset) % 4],
                )
            )
            if (index + offset) % 3 == 1:
                await crises.acknowledge(detection.id, clinician)
            elif (index + offset) % 3 == 2:
                await crises.escalate_crisis(
                    detection.id, CRISIS_TEAM, ESCALATION_REASON, by=clinician
                )


async def seed_plans(db: DatabaseManager) -> None:
    """One safety plan per patient, every fourth revised once."""
    plans = SafetyPlanRepository(db)
    for index, patient in enumerate(PATIENTS):
        plan = await plans.create(
            seed_plan(patient_id=patient, next_review_on=date(2030, 1, 1 + index % 28))
        )
        if index % 4 == 0:
            await plans.revise_plan(
                plan.id, {"reasons_to_live": ["My nephew"]}, expected_version=1
            )


async def test_crisis_queries_and_writes_never_scan_or_sort_in_memory(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        await seed_detections(db)
        crises = CrisisDetectionRepository(db)
        teams = CareTeamRepository(db)
        team = await teams.create(
            CareTeam(patient_id=PATIENTS[0], primary_provider_id=CLINICIANS[0])
        )
        recorder.recording = True

        repeat = await crises.record_detection(
            PATIENTS[5], "journal_entry", None, assessment()
        )
        fresh = await crises.record_detection(
            PATIENTS[5], "conversation", None, assessment()
        )
        await crises.acknowledge(fresh.id, THERAPIST)
        await crises.escalate_crisis(repeat.id, CRISIS_TEAM, ESCALATION_REASON)
        await crises.resolve(repeat.id, THERAPIST, RESOLUTION_NOTE)
        await crises.overdue_crises()
        await crises.active_crises()
        await crises.detections_for_patient(PATIENTS[9])
        await crises.response_time_statistics(
            provider_ids=CLINICIANS[:3], since=repeat.detected_at - timedelta(days=2)
        )
        await crises.response_time_statistics(
            team_id=team.id, since=repeat.detected_at - timedelta(days=2)
        )
        await crises.process_clinical_signals("crisis-worker-1")
        outbox = crises.outbox
        await outbox.pending()
        claimed = await outbox.claim("pager-sender-1", timedelta(seconds=30), limit=3)
        await outbox.mark_sent(claimed[0].id, worker_id="pager-sender-1")
        await outbox.mark_failed(claimed[1].id, "sms_gateway_503")
        recorder.recording = False

        problems = [
            (command, await scan_problems(db, command)) for command in recorder.commands
        ]
        assert not [found for found in problems if found[1]], describe(problems)
        assert len(problems) >= 20


async def test_safety_plan_queries_and_writes_never_scan_or_sort_in_memory(
    mongodb_uri: str,
) -> None:
    async with recorded_database(mongodb_uri) as (db, recorder):
        await seed_plans(db)
        plans = SafetyPlanRepository(db)
        plan = await plans.active_plan(PATIENTS[8])
        assert plan is not None
        recorder.recording = True

        await plans.active_plan(PATIENTS[3])
        await plans.versions(PATIENTS[4])
        await plans.get_version(plan.id, 1)
        await plans.review_due(date(2030, 1, 10))
        revised = await plans.revise_plan(
            plan.id, {"warning_signs": ["Giving my guitar away"]}, expected_version=2
        )
        await plans.acknowledge_by_patient(revised.id, version=3)
        await plans.get_version(plan.id, 2)
        await plans.delete(plan.id)
        recorder.recording = False

        problems = [
            (command, await scan_problems(db, command)) for command in recorder.commands
        ]
        assert not [found for found in problems if found[1]], describe(problems)
        assert len(problems) >= 10
